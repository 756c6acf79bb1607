// The checks of tests/mcp/sdk that hold on every transport: client.mjs
// connects a Client over stdio or Streamable HTTP and runs them. They edit
// the profiles directory the server watches (a scratch copy).
import { writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  McpError,
  ResourceUpdatedNotificationSchema,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  LoggingMessageNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';

export const PROTOCOL = '2025-11-25';

/* One "ok - [transport] name" / "not ok - ..." line per check. */
export class Runner {
  constructor(label) {
    this.label = label;
    this.passed = 0;
    this.failed = 0;
  }

  async check(name, fn) {
    try {
      await fn();
      this.passed++;
      console.log(`ok - [${this.label}] ${name}`);
    } catch (e) {
      this.failed++;
      console.log(`not ok - [${this.label}] ${name}: ${e && e.stack ? e.stack : e}`);
    }
  }

  summary() {
    console.log(`[${this.label}] ${this.passed} passed, ${this.failed} failed`);
    return this.failed ? 1 : 0;
  }
}

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

/* Resolves when pred() (maybe async) holds, trying every 20 ms; rejects
 * after ms. */
export async function waitFor(pred, ms, what = 'the condition') {
  const t0 = Date.now();
  for (;;) {
    if (await pred()) return;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/* Appends a paragraph to profile id's file (id.md) in dir. */
export function edit(dir, id, line) {
  const file = join(dir, `${id}.md`);
  writeFileSync(file, `${readFileSync(file, 'utf8')}\n${line}\n`);
}

async function promptText(client, id) {
  const r = await client.readResource({ uri: `roster://profiles/${id}/prompt` });
  return r.contents[0].text;
}

/* The error p rejects with (an Error when it resolves instead). */
export async function rejection(p) {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected an error, got an answer');
}

/* Wraps transport.setProtocolVersion (the Client calls it with the
 * version initialize agreed on, where the transport has it) so that the
 * checks can see that version on every transport. */
export function recordProtocolVersion(transport) {
  const seen = { version: undefined };
  const orig = transport.setProtocolVersion ? transport.setProtocolVersion.bind(transport) : null;
  transport.setProtocolVersion = (v) => {
    seen.version = v;
    if (orig) orig(v);
  };
  return seen;
}

/* The notifications a client receives, by kind. */
export function watch(client) {
  const got = { updated: [], promptsChanged: 0, resourcesChanged: 0, logs: [], errors: [] };
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
    got.updated.push(n.params.uri);
  });
  client.setNotificationHandler(PromptListChangedNotificationSchema, () => {
    got.promptsChanged++;
  });
  client.setNotificationHandler(ResourceListChangedNotificationSchema, () => {
    got.resourcesChanged++;
  });
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    got.logs.push(n.params);
  });
  client.onerror = (e) => {
    got.errors.push(e);
  };
  return got;
}

const reloads = (got) => got.logs.filter((l) => l.data && l.data.event === 'reload').length;

function servedCount(profiles) {
  return readdirSync(profiles).filter((f) => f.endsWith('.md')).length;
}

function expectInvalidParams(e) {
  assert(e instanceof McpError, `not an McpError: ${e}`);
  assert(e.code === -32602, `code ${e.code}: ${e.message}`);
}

/* Every check that holds on both transports. ctx: {client, connect()
 * (connects client, once), got (watch(client)), seen
 * (recordProtocolVersion(transport)), profiles (the directory)}. */
export async function commonChecks(run, ctx) {
  const { client, got, profiles } = ctx;
  const served = servedCount(profiles);

  await run.check('initialize (connect): serverInfo, capabilities, protocol version', async () => {
    await ctx.connect();
    const info = client.getServerVersion();
    assert(info && info.name === 'rosterd' && info.title === 'roster', `serverInfo ${JSON.stringify(info)}`);
    const caps = client.getServerCapabilities();
    assert(caps.prompts && caps.prompts.listChanged, 'prompts.listChanged');
    assert(caps.resources && caps.resources.subscribe && caps.resources.listChanged, 'resources');
    assert(caps.completions && caps.logging, 'completions, logging');
    assert(!caps.tools, 'no tools');
    assert(ctx.seen.version === PROTOCOL, `negotiated ${ctx.seen.version}, expected ${PROTOCOL}`);
  });

  await run.check('ping', async () => {
    const r = await client.ping();
    assert(r && Object.keys(r).length === 0, JSON.stringify(r));
  });

  await run.check(`prompts/list pages through every profile (${served})`, async () => {
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
    } while (cursor && pages < 200);
    assert(pages >= 2, `expected several pages, got ${pages}`);
    assert(!cursor, 'no nextCursor on the last page');
    assert(names.includes('tpl-parent') && names.includes('tpl-child'), names.join(','));
    assert(new Set(names).size === names.length, `duplicates: ${names}`);
    assert(names.length === served, `${names.length} prompts for ${served} profiles`);
  });

  await run.check('prompts/list declares arguments', async () => {
    const r = await client.listPrompts({ cursor: 'tpl-child' });
    const p = r.prompts.find((x) => x.name === 'tpl-parent');
    assert(p, 'tpl-parent on the page after tpl-child');
    const task = p.arguments.find((a) => a.name === 'task');
    assert(task && task.required === true, JSON.stringify(p.arguments));
  });

  await run.check('prompts/list with an invalid cursor is -32602', async () => {
    expectInvalidParams(await rejection(client.listPrompts({ cursor: 'x'.repeat(200) })));
  });

  await run.check('prompts/get with arguments', async () => {
    const r = await client.getPrompt({
      name: 'tpl-parent',
      arguments: { task: 'ship the release', language: 'C' },
    });
    assert(r.messages.length === 1 && r.messages[0].role === 'user', JSON.stringify(r));
    assert(r.messages[0].content.type === 'text', r.messages[0].content.type);
    const text = r.messages[0].content.text;
    assert(text.includes('do this: ship the release. Work in C.'), text);
  });

  await run.check('prompts/get of an unknown prompt is -32602', async () => {
    expectInvalidParams(await rejection(client.getPrompt({ name: 'no-such-prompt', arguments: {} })));
  });

  await run.check('prompts/get with invalid arguments is -32602 with every problem', async () => {
    const e = await rejection(client.getPrompt({ name: 'tpl-parent', arguments: { language: 'COBOL' } }));
    expectInvalidParams(e);
    assert(e.data && e.data.reason === 'invalid_arguments', JSON.stringify(e.data));
    const reasons = (e.data.errors || []).map((p) => `${p.name}:${p.reason}`).sort();
    assert(reasons.join(',') === 'language:not_in_enum,task:missing', reasons.join(','));
  });

  await run.check(`resources/list pages through every resource (${2 * served})`, async () => {
    const uris = [];
    let cursor;
    let pages = 0;
    do {
      const r = await client.listResources(cursor ? { cursor } : {});
      for (const x of r.resources) uris.push(x.uri);
      cursor = r.nextCursor;
      pages++;
    } while (cursor && pages < 200);
    assert(pages >= 2, `expected several pages, got ${pages}`);
    assert(uris.every((u) => u.startsWith('roster://profiles/')), 'uris');
    assert(new Set(uris).size === uris.length, 'duplicates');
    assert(uris.length === 2 * served, `${uris.length} resources for ${served} profiles`);
    assert(uris.includes('roster://profiles/tpl-child/prompt'), 'the prompt resource');
  });

  await run.check('resources/templates/list', async () => {
    const t = await client.listResourceTemplates();
    const tpl = t.resourceTemplates.map((x) => x.uriTemplate).sort();
    const want = ['roster://profiles/{id}', 'roster://profiles/{id}/prompt', 'roster://profiles/{id}/{view}'];
    assert(JSON.stringify(tpl) === JSON.stringify(want), tpl.join(','));
  });

  await run.check('resources/read of the profile (JSON), the prompt (Markdown) and a view', async () => {
    const r = await client.readResource({ uri: 'roster://profiles/tpl-child' });
    const c = r.contents[0];
    assert(c.uri === 'roster://profiles/tpl-child', c.uri);
    assert(c.mimeType === 'application/json', c.mimeType);
    assert(JSON.parse(c.text).id === 'tpl-child', 'profile id');
    const p = await client.readResource({ uri: 'roster://profiles/tpl-child/prompt' });
    assert(p.contents[0].mimeType === 'text/markdown', p.contents[0].mimeType);
    assert(p.contents[0].text.startsWith('# '), p.contents[0].text);
    const v = await client.readResource({ uri: 'roster://profiles/tpl-child/lineage' });
    assert(v.contents[0].mimeType === 'application/json', v.contents[0].mimeType);
    const lineage = JSON.stringify(JSON.parse(v.contents[0].text));
    assert(lineage.includes('tpl-parent') && lineage.includes('tpl-child'), lineage);
  });

  await run.check('resources/read of an unknown uri is -32002', async () => {
    const e = await rejection(client.readResource({ uri: 'roster://profiles/no-such-profile' }));
    assert(e instanceof McpError && e.code === -32002, `code ${e.code}: ${e.message}`);
    assert(e.data && e.data.uri === 'roster://profiles/no-such-profile', JSON.stringify(e.data));
  });

  await run.check('completion/complete for argument values, ids and views', async () => {
    const r = await client.complete({
      ref: { type: 'ref/prompt', name: 'tpl-parent' },
      argument: { name: 'language', value: 'P' },
    });
    assert(JSON.stringify(r.completion.values) === '["Python"]', JSON.stringify(r));
    const ids = await client.complete({
      ref: { type: 'ref/resource', uri: 'roster://profiles/{id}' },
      argument: { name: 'id', value: 'tpl-p' },
    });
    const want = ['tpl-parent', 'tpl-plain'];
    assert(JSON.stringify(ids.completion.values) === JSON.stringify(want), JSON.stringify(ids));
    const views = await client.complete({
      ref: { type: 'ref/resource', uri: 'roster://profiles/{id}/{view}' },
      argument: { name: 'view', value: 'lin' },
    });
    assert(views.completion.values.includes('lineage'), JSON.stringify(views));
  });

  await run.check('logging/setLevel', async () => {
    const r = await client.setLoggingLevel('info');
    assert(r && Object.keys(r).length === 0, JSON.stringify(r));
  });

  await run.check('a subscription receives resources/updated after a file edit', async () => {
    const r = await client.subscribeResource({ uri: 'roster://profiles/tpl-plain' });
    assert(r && Object.keys(r).length === 0, JSON.stringify(r));
    edit(profiles, 'tpl-plain', 'One more line.');
    await waitFor(() => got.updated.includes('roster://profiles/tpl-plain'), 10000, 'resources/updated');
    assert(got.updated.every((u) => u === 'roster://profiles/tpl-plain'), got.updated.join(','));
    assert(got.promptsChanged === 0, 'an edit keeping the set sends no list_changed');
  });

  await run.check('at level info a reload sends notifications/message (logger rosterd, event reload)', async () => {
    // the edit above reloaded; the next one too (in case the first was missed)
    edit(profiles, 'tpl-stale', 'A line for the log.');
    await waitFor(() => reloads(got) > 0, 10000, 'notifications/message with data.event "reload"');
    const log = got.logs.find((l) => l.data && l.data.event === 'reload');
    assert(log.level === 'info' && log.logger === 'rosterd', JSON.stringify(log));
    assert(Number.isInteger(log.data.generation) && log.data.changed >= 1, JSON.stringify(log));
  });

  await run.check('after resources/unsubscribe an edit sends no resources/updated', async () => {
    await client.unsubscribeResource({ uri: 'roster://profiles/tpl-plain' });
    await client.subscribeResource({ uri: 'roster://profiles/tpl-parent' });
    const before = got.updated.length;
    edit(profiles, 'tpl-plain', 'Yet another line.');
    // once the edit is served, a second edit of a subscribed profile is the
    // barrier: its notification follows any the first reload sent
    await waitFor(async () => (await promptText(client, 'tpl-plain')).includes('Yet another line.'), 10000, 'the edit served');
    edit(profiles, 'tpl-parent', 'Edited.');
    await waitFor(() => got.updated.length > before, 10000, 'resources/updated of tpl-parent');
    const after = got.updated.slice(before);
    assert(JSON.stringify(after) === '["roster://profiles/tpl-parent"]', after.join(','));
    await client.unsubscribeResource({ uri: 'roster://profiles/tpl-parent' });
  });

  await run.check('a new profile sends prompts/list_changed and resources/list_changed', async () => {
    writeFileSync(
      join(profiles, 'tpl-new.md'),
      '---\nid: tpl-new\nname: New\ndescription: Added while running\nversion: "1"\nrole: x\n---\n\n# New\n\nHello.\n',
    );
    await waitFor(() => got.promptsChanged > 0 && got.resourcesChanged > 0, 10000, 'list_changed');
    const r = await client.getPrompt({ name: 'tpl-new' });
    assert(r.messages[0].content.text.includes('Hello.'), 'new prompt served');
  });
}
