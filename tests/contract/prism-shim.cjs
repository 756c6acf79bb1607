// Loaded into Prism with `node --require` (see run.sh): two fixes to how
// Prism 5.x (checked: 5.14.2, and 5.16.0 has the same code) reads the
// upstream's answers. Validation itself is untouched.
//
// 1. Prism parses every forwarded response whose Content-Type is JSON with
//    response.json(), also when the body is empty: a HEAD answer (the GET's
//    Content-Type, no body) turns into Prism's own 500 "invalid json response
//    body ... Unexpected end of JSON input" and is never validated (the same
//    class of bug as stoplightio/prism#1361 for 204). Here: read the text,
//    parse it as JSON only when there is some.
// 2. Prism picks the response schema with a media type match that ignores a
//    structured suffix's subtype: `application/vnd.roster.projection+json`
//    matches `application/json`, the first content entry, so a `fields`
//    projection is validated against the full Profile schema
//    (stoplightio/prism#2713, open). Here: the whole subtype must match
//    (or be `*`).
'use strict';
const path = require('path');

const http = path.dirname(require.resolve('@stoplight/prism-http/package.json', {
  paths: [path.join(__dirname, '..', '..', '.cache', 'contract'), process.cwd()],
}));
const from = (name) => require(require.resolve(name, { paths: [http] }));
const parse = require(path.join(http, 'dist', 'utils', 'parseResponse.js'));
const match = require(path.join(http, 'dist', 'validator', 'utils', 'wildcardMediaTypeMatch.js'));
const typeIs = from('type-is');
const contentType = from('content-type');
const TE = from('fp-ts/TaskEither');
const E = from('fp-ts/Either');

parse.parseResponseBody = (response) => TE.tryCatch(async () => {
  const text = await response.text();
  const json = response.status !== 204 &&
    typeIs.is(response.headers.get('content-type') || '', ['application/json', 'application/*+json']);
  return json && text !== '' ? JSON.parse(text) : text;
}, E.toError);

function split(mediaType) {
  try {
    const [type, subtype] = contentType.parse(mediaType).type.toLowerCase().split('/');
    return subtype === undefined ? null : { type, subtype };
  } catch (e) {
    return null;
  }
}

// (actual, declared): true when the declared media type range admits the actual one
match.wildcardMediaTypeMatch = (a, b) => {
  const x = split(a);
  const y = split(b);
  return !!x && !!y && (x.type === y.type || y.type === '*') && (x.subtype === y.subtype || y.subtype === '*');
};
