// Interoperability of rosterd's MCP server with the official MCP TypeScript
// SDK client, pinned in package.json; run by run.sh.
//
//   node client.mjs stdio   Client + StdioClientTransport launching
//                           `$ROSTERD mcp --profiles $PROFILES --page-size 2`
//   node client.mjs http    Client + StreamableHTTPClientTransport against
//                           $MCP_URL (a `rosterd serve` over $PROFILES) and
//                           $MCP_TOKEN_URL (one over $MCP_TOKEN_PROFILES
//                           started with ROSTER_MCP_TOKEN=$MCP_TOKEN)
//
// Runs checks.mjs's checks (the same on both transports), then the
// transport's own. Prints one "ok - ..." / "not ok - ..." line per check;
// exit 1 when any failed.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  PROTOCOL,
  Runner,
  assert,
  commonChecks,
  edit,
  recordProtocolVersion,
  rejection,
  waitFor,
  watch,
} from './checks.mjs';

const kind = process.argv[2];
const profiles = process.env.PROFILES;
const run = new Runner(kind);

const newClient = () => new Client({ name: 'roster-interop', version: '1.0.0' });

function expectHttpStatus(e, status) {
  assert(e instanceof StreamableHTTPError, `not a StreamableHTTPError: ${e && e.stack ? e.stack : e}`);
  assert(e.code === status, `HTTP ${e.code}, expected ${status}: ${e.message}`);
}

/* A client on an existing session: connect() skips initialize when the
 * transport has a session id, as a client resuming after a restart does. */
async function onSession(url, sessionId, version, init) {
  const transport = new StreamableHTTPClientTransport(new URL(url), { sessionId, requestInit: init });
  if (version) transport.setProtocolVersion(version);
  const client = newClient();
  const got = watch(client);
  await client.connect(transport);
  return { client, transport, got };
}

async function httpChecks(main) {
  const url = process.env.MCP_URL;
  const sessionId = main.transport.sessionId;

  await run.check('initialize answered with an Mcp-Session-Id, echoed with MCP-Protocol-Version', async () => {
    assert(/^[0-9A-Za-z_-]{16,}$/.test(sessionId || ''), `session id ${sessionId}`);
    assert(main.transport.protocolVersion === PROTOCOL, `transport sends ${main.transport.protocolVersion}`);
    assert(main.got.errors.length === 0, `transport errors: ${main.got.errors.join('; ')}`);
  });

  await run.check('POST: requests answered in application/json (never SSE), notifications 202; GET: the stream', async () => {
    const posts = exchanges.filter((x) => x.method === 'POST');
    const requests = posts.filter((x) => x.msg && 'id' in x.msg);
    const notes = posts.filter((x) => x.msg && !('id' in x.msg));
    assert(requests.length > 20 && notes.length >= 1, `${requests.length} requests, ${notes.length} notifications`);
    for (const x of requests) {
      assert(x.status === 200 && x.type === 'application/json', `${x.msg.method}: ${x.status} ${x.type}`);
      assert((x.session !== null) === (x.msg.method === 'initialize'), `${x.msg.method}: Mcp-Session-Id ${x.session}`);
    }
    for (const x of notes) assert(x.status === 202, `${x.msg.method}: ${x.status}`);
    const gets = exchanges.filter((x) => x.method === 'GET');
    assert(gets.length === 1 && gets[0].status === 200 && gets[0].type === 'text/event-stream', JSON.stringify(gets));
  });

  await run.check('MCP-Protocol-Version other than the negotiated one is 400', async () => {
    for (const v of ['2025-06-18', '1999-01-01']) {
      const other = await onSession(url, sessionId, v);
      expectHttpStatus(await rejection(other.client.ping()), 400);
      await other.client.close();
    }
  });

  // The main client goes away without DELETE; its session stays. A second
  // client on the same session gets what it missed (and, with
  // Last-Event-ID 0, every message the session's stream ever carried).
  let second;
  await run.check('a client back on the session resumes the stream (Last-Event-ID)', async () => {
    await main.client.subscribeResource({ uri: 'roster://profiles/tpl-child' });
    const earlier = main.got.updated.length;
    assert(earlier > 0, 'the main client got resources/updated before');
    await main.client.close();
    edit(profiles, 'tpl-child', 'Edited while no client listened.');
    second = await onSession(url, sessionId, PROTOCOL);
    await second.client.ping();
    await second.transport.resumeStream('0');
    await waitFor(
      () =>
        second.got.updated.includes('roster://profiles/tpl-child') &&
        second.got.updated.includes('roster://profiles/tpl-plain'),
      10000,
      'the missed and the replayed resources/updated',
    );
    const prompts = await second.client.listPrompts();
    assert(prompts.prompts.length > 0, 'requests on the resumed session');
  });

  await run.check('DELETE ends the session (terminateSession); its id is then 404', async () => {
    assert(second, 'no client on the session');
    await second.transport.terminateSession();
    assert(second.transport.sessionId === undefined, 'the transport forgot the session');
    await second.client.close();
    const stale = await onSession(url, sessionId, PROTOCOL);
    expectHttpStatus(await rejection(stale.client.ping()), 404);
    expectHttpStatus(await rejection(stale.transport.resumeStream()), 404);
    expectHttpStatus(await rejection(stale.transport.terminateSession()), 404);
    await stale.client.close();
  });

  await run.check('a fresh client initializes a new session after that', async () => {
    const t = new StreamableHTTPClientTransport(new URL(url));
    const c = newClient();
    await c.connect(t);
    assert(t.sessionId && t.sessionId !== sessionId, `session ${t.sessionId}`);
    await c.ping();
    await t.terminateSession();
    await c.close();
  });

  await run.check('an Origin not allowed is refused with 403', async () => {
    const t = new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { Origin: 'http://evil.example' } },
    });
    expectHttpStatus(await rejection(newClient().connect(t)), 403);
    assert(t.sessionId === undefined, 'no session');
  });

  await run.check('a localhost Origin passes (server bound to loopback)', async () => {
    const t = new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { Origin: 'http://localhost:6274' } },
    });
    const c = newClient();
    await c.connect(t);
    await c.ping();
    await t.terminateSession();
    await c.close();
  });

  const tokenUrl = new URL(process.env.MCP_TOKEN_URL);
  const bearer = (token) => ({ headers: { Authorization: `Bearer ${token}` } });

  await run.check('with a bearer token configured, no token is 401', async () => {
    const t = new StreamableHTTPClientTransport(tokenUrl);
    expectHttpStatus(await rejection(newClient().connect(t)), 401);
  });

  await run.check('with a bearer token configured, a wrong token is 401', async () => {
    const t = new StreamableHTTPClientTransport(tokenUrl, {
      requestInit: bearer('not-the-token-but-long-enough'),
    });
    expectHttpStatus(await rejection(newClient().connect(t)), 401);
  });

  await run.check('the right token (requestInit) works for requests and the stream', async () => {
    const t = new StreamableHTTPClientTransport(tokenUrl, { requestInit: bearer(process.env.MCP_TOKEN) });
    const c = newClient();
    const got = watch(c);
    await c.connect(t);
    const r = await c.listPrompts();
    assert(r.prompts.some((p) => p.name === 'tpl-plain'), 'prompts');
    await c.subscribeResource({ uri: 'roster://profiles/tpl-plain' });
    edit(process.env.MCP_TOKEN_PROFILES, 'tpl-plain', 'Edited.');
    await waitFor(() => got.updated.includes('roster://profiles/tpl-plain'), 10000, 'resources/updated');
    assert(got.errors.length === 0, `transport errors: ${got.errors.join('; ')}`);
    await t.terminateSession();
    await c.close();
  });
}

/* What the main HTTP client's requests got: method, JSON-RPC message sent,
 * status, Content-Type, Mcp-Session-Id. */
const exchanges = [];
async function recordingFetch(url, init) {
  const r = await fetch(url, init);
  exchanges.push({
    method: (init && init.method) || 'GET',
    msg: init && typeof init.body === 'string' ? JSON.parse(init.body) : null,
    status: r.status,
    type: r.headers.get('content-type'),
    session: r.headers.get('mcp-session-id'),
  });
  return r;
}

let transport;
if (kind === 'stdio') {
  transport = new StdioClientTransport({
    command: process.env.ROSTERD,
    args: ['mcp', '--profiles', profiles, '--page-size', '2'],
    stderr: 'ignore',
  });
} else if (kind === 'http') {
  transport = new StreamableHTTPClientTransport(new URL(process.env.MCP_URL), { fetch: recordingFetch });
} else {
  console.error('usage: node client.mjs stdio|http');
  process.exit(2);
}
const client = newClient();
const main = { client, transport, got: watch(client), seen: recordProtocolVersion(transport) };
await commonChecks(run, { ...main, profiles, connect: () => client.connect(transport) });
if (kind === 'http') await httpChecks(main);
else
  await run.check('no transport errors', async () => {
    assert(main.got.errors.length === 0, `transport errors: ${main.got.errors.join('; ')}`);
  });
await client.close();
process.exit(run.summary());
