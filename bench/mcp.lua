-- wrk script for bench/run.sh's MCP cases (mcp-prompt, mcp-read): one
-- JSON-RPC request, POSTed to /mcp again and again on sessions that run.sh
-- initialized beforehand.
--
--   WRK_MCP_BODY      the JSON-RPC request, e.g. {"jsonrpc":"2.0","id":2,
--                     "method":"prompts/get","params":{"name":"..."}}; required
--   WRK_MCP_SESSIONS  Mcp-Session-Id values, separated by spaces; required.
--                     wrk thread k (from 0) uses session k mod their count, for
--                     every one of its connections (run.sh makes one session
--                     per thread: -t N -c N gives one session per connection)
--   WRK_MCP_VERSION   the MCP-Protocol-Version header [2025-11-25]
--
-- Everything else (the RESULT line that run.sh parses) comes from wrk.lua
-- next to this file. Like wrk.lua it sets no request() or response() hook:
-- setup() hands each thread its session, init() puts it in the headers, and
-- wrk formats the request once per thread, so Lua does not run per request.
-- The responses are checked by run.sh instead: wrk counts statuses >= 400,
-- run.sh the server's per-status counters of the mcp route and the bytes
-- per response.

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "wrk.lua")

local body = os.getenv("WRK_MCP_BODY")
local ids = {}
for id in (os.getenv("WRK_MCP_SESSIONS") or ""):gmatch("%S+") do
   ids[#ids + 1] = id
end
if not body or body == "" or #ids == 0 then
   io.stderr:write("mcp.lua: WRK_MCP_BODY and WRK_MCP_SESSIONS must be set\n")
   os.exit(2)
end
local version = os.getenv("WRK_MCP_VERSION")
if not version or version == "" then
   version = "2025-11-25"
end

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = version

-- setup() runs in wrk's main Lua state, once per thread, before that
-- thread's init().
local threads = 0
function setup(thread)
   thread:set("mcp_session", ids[threads % #ids + 1])
   threads = threads + 1
end

function init(args)
   -- mcp_session is a global of this thread's state, set by setup()
   wrk.headers["Mcp-Session-Id"] = mcp_session
end
