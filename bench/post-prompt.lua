-- wrk script for bench/run.sh's post case: POST /v1/profiles/{id}/prompt.
--
--   WRK_POST_BODY  the JSON body, {"variables": {...}} (run.sh writes it from
--                  PROMPT_VARIABLES); required
--
-- Everything else (the RESULT line that run.sh parses, the optional headers)
-- comes from wrk.lua next to this file. Like wrk.lua it sets no request()
-- or response() hook: wrk formats the one request once and sends it again
-- on every connection, so Lua does not run per request.

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "wrk.lua")

local body = os.getenv("WRK_POST_BODY")
if not body or body == "" then
   io.stderr:write("post-prompt.lua: WRK_POST_BODY is not set\n")
   os.exit(2)
end
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
