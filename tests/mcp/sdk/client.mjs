// Interoperability of `rosterd mcp` with the official MCP TypeScript SDK
// client (Client + StdioClientTransport), pinned in package.json.
// Env: ROSTERD (the binary), PROFILES (a scratch copy of
// tests/fixtures/templates that this script edits). Prints one
// "ok - ..." / "not ok - ..." line per check; exit 1 when any failed.
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  McpError,
  ResourceUpdatedNotificationSchema,
  PromptListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

const rosterd = process.env.ROSTERD;
const profiles = process.env.PROFILES;
let failed = 0;
let passed = 0;

async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}: ${e && e.stack ? e.stack : e}`);
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

function waitFor(pred, ms) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      if (pred()) return resolve();
      if (Date.now() - t0 > ms) return reject(new Error(`timed out after ${ms} ms`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

const transport = new StdioClientTransport({
  command: rosterd,
  args: ['mcp', '--profiles', profiles, '--page-size', '2'],
  stderr: 'ignore',
});
const client = new Client({ name: 'roster-interop', version: '1.0.0' });
const updated = [];
let listChanged = 0;
client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
  updated.push(n.params.uri);
});
client.setNotificationHandler(PromptListChangedNotificationSchema, () => {
  listChanged++;
});

await check('initialize (connect)', async () => {
  await client.connect(transport);
  const info = client.getServerVersion();
  assert(info && info.name === 'rosterd', `serverInfo ${JSON.stringify(info)}`);
  const caps = client.getServerCapabilities();
  assert(caps.prompts && caps.prompts.listChanged, 'prompts.listChanged');
  assert(caps.resources && caps.resources.subscribe, 'resources.subscribe');
  assert(caps.completions && caps.logging, 'completions, logging');
});

await check('ping', async () => {
  await client.ping();
});

await check('prompts/list pages through every profile', async () => {
  const names = [];
  let cursor;
  let pages = 0;
  do {
    const r = await client.listPrompts(cursor ? { cursor } : {});
    for (const p of r.prompts) {
      assert(p.description && p.description.length > 0, `${p.name}: empty description`);
      names.push(p.name);
    }
    cursor = r.nextCursor;
    pages++;
  } while (cursor && pages < 20);
  assert(pages >= 2, `expected several pages, got ${pages}`);
  assert(names.includes('tpl-parent') && names.includes('tpl-child'), names.join(','));
  assert(new Set(names).size === names.length, `duplicates: ${names}`);
});

await check('prompts/list declares arguments', async () => {
  const r = await client.listPrompts({ cursor: 'tpl-child' });
  const p = r.prompts.find((x) => x.name === 'tpl-parent');
  assert(p, 'tpl-parent on the page after tpl-child');
  const task = p.arguments.find((a) => a.name === 'task');
  assert(task && task.required === true, JSON.stringify(p.arguments));
});

await check('prompts/get with arguments', async () => {
  const r = await client.getPrompt({
    name: 'tpl-parent',
    arguments: { task: 'ship the release', language: 'C' },
  });
  assert(r.messages.length === 1 && r.messages[0].role === 'user', JSON.stringify(r));
  const text = r.messages[0].content.text;
  assert(text.includes('do this: ship the release. Work in C.'), text);
});

await check('prompts/get with an invalid argument is -32602 with every problem', async () => {
  try {
    await client.getPrompt({ name: 'tpl-parent', arguments: { language: 'COBOL' } });
  } catch (e) {
    assert(e instanceof McpError, `not an McpError: ${e}`);
    assert(e.code === -32602, `code ${e.code}`);
    const reasons = (e.data.errors || []).map((p) => `${p.name}:${p.reason}`).sort();
    assert(reasons.join(',') === 'language:not_in_enum,task:missing', reasons.join(','));
    return;
  }
  throw new Error('no error');
});

await check('resources/list and templates', async () => {
  const r = await client.listResources();
  assert(r.resources.length > 0 && r.nextCursor, 'a first page with a cursor');
  assert(r.resources.every((x) => x.uri.startsWith('roster://profiles/')), 'uris');
  const t = await client.listResourceTemplates();
  const tpl = t.resourceTemplates.map((x) => x.uriTemplate);
  assert(tpl.includes('roster://profiles/{id}/{view}'), tpl.join(','));
});

await check('resources/read of the profile and the prompt', async () => {
  const r = await client.readResource({ uri: 'roster://profiles/tpl-child' });
  const c = r.contents[0];
  assert(c.mimeType === 'application/json', c.mimeType);
  assert(JSON.parse(c.text).id === 'tpl-child', 'profile id');
  const p = await client.readResource({ uri: 'roster://profiles/tpl-child/prompt' });
  assert(p.contents[0].mimeType === 'text/markdown', p.contents[0].mimeType);
});

await check('resources/read of an unknown uri is -32002', async () => {
  try {
    await client.readResource({ uri: 'roster://profiles/no-such-profile' });
  } catch (e) {
    assert(e.code === -32002, `code ${e.code}`);
    return;
  }
  throw new Error('no error');
});

await check('completion/complete for argument values and ids', async () => {
  const r = await client.complete({
    ref: { type: 'ref/prompt', name: 'tpl-parent' },
    argument: { name: 'language', value: 'P' },
  });
  assert(JSON.stringify(r.completion.values) === '["Python"]', JSON.stringify(r));
  const ids = await client.complete({
    ref: { type: 'ref/resource', uri: 'roster://profiles/{id}' },
    argument: { name: 'id', value: 'tpl-p' },
  });
  assert(ids.completion.values.includes('tpl-parent'), JSON.stringify(ids));
});

await check('logging/setLevel', async () => {
  await client.setLoggingLevel('info');
});

await check('a subscription receives resources/updated after a file edit', async () => {
  await client.subscribeResource({ uri: 'roster://profiles/tpl-plain' });
  const file = join(profiles, 'tpl-plain.md');
  writeFileSync(file, readFileSync(file, 'utf8') + '\nOne more line.\n');
  await waitFor(() => updated.includes('roster://profiles/tpl-plain'), 10000);
});

await check('a new profile sends prompts/list_changed', async () => {
  writeFileSync(
    join(profiles, 'tpl-new.md'),
    '---\nid: tpl-new\nname: New\ndescription: Added while running\nversion: "1"\nrole: x\n---\n\n# New\n\nHello.\n',
  );
  await waitFor(() => listChanged > 0, 10000);
  const r = await client.getPrompt({ name: 'tpl-new' });
  assert(r.messages[0].content.text.includes('Hello.'), 'new prompt served');
});

await client.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
