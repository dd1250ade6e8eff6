// Regenerates soviet_art_bot/_twitter_text_data.py from the official JavaScript
// twitter-text (the reference X's counting is specified by) and the emoji
// parser it uses:
//   mkdir -p /tmp/tt && cd /tmp/tt && npm install twitter-text@3.1.0
//   NODE_PATH=/tmp/tt/node_modules node scripts/gen_twitter_text_data.js \
//     > soviet_art_bot/_twitter_text_data.py
// The sources are written verbatim: caption.py applies them to UTF-16 code
// units, as JavaScript does, so no translation can drift from the original.
'use strict';
const tt = require('twitter-text');
const emoji = require('twemoji-parser/dist/lib/regex').default;
const versions = ['twitter-text', 'twemoji-parser'].map(
  (name) => `${name} ${require(`${name}/package.json`).version}`
);
const r = tt.regexen;
const py = (s) => JSON.stringify(s); // a JSON string is also a Python str literal
const out = [
  `"""Regular expressions of twitter-text v3, generated; do not edit.`,
  ``,
  `From ${versions.join(' and ')} (npm), by scripts/gen_twitter_text_data.js.`,
  `twitter-text: Copyright 2018 Twitter, Inc., Apache License 2.0.`,
  `twemoji-parser: Copyright Twitter Inc., MIT License.`,
  `Every pattern is JavaScript source over UTF-16 code units (see caption.py).`,
  `"""`,
  ``,
  `# ruff: noqa: E501`,
  `VERSIONS = ${py(versions.join(', '))}`,
];
for (const [name, re] of [
  ['EXTRACT_URL', r.extractUrl],
  ['VALID_ASCII_DOMAIN', r.validAsciiDomain],
  ['VALID_TCO_URL', r.validTcoUrl],
  ['INVALID_URL_WITHOUT_PROTOCOL_PRECEDING_CHARS', r.invalidUrlWithoutProtocolPrecedingChars],
  ['VALID_DOMAIN', r.validDomain],
  ['VALID_URL_PRECEDING_CHARS', r.validUrlPrecedingChars],
  ['LATIN_ACCENT_CHARS', r.latinAccentChars],
  ['VALID_GTLD', r.validGTLD],
  ['VALID_CCTLD', r.validCCTLD],
  ['EMOJI', emoji],
]) {
  out.push(`${name} = ${py(typeof re === 'string' ? re : re.source)}`);
  if (typeof re !== 'string') out.push(`${name}_FLAGS = ${py(re.flags)}`);
}
process.stdout.write(out.join('\n') + '\n');
