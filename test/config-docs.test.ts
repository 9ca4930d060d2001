/**
 * One source for the configuration: docs/configuration.md is made from the declarations in
 * src/config/variables.ts, which loadConfig reads every variable through.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { PAGE, renderConfigurationPage } from '../src/config/page';
import { SECTIONS } from '../src/config/kinds';
import { VARIABLES } from '../src/config/variables';

describe('configuration: declared once, documented from the declarations', () => {
  it('docs/configuration.md is what the declarations make (else run npm run docs:config)', () => {
    assert.equal(fs.readFileSync(PAGE, 'utf8'), renderConfigurationPage());
  });

  it('each variable has a section, the values it takes, a default and one line of meaning', () => {
    for (const [name, v] of Object.entries(VARIABLES)) {
      assert.match(name, /^[A-Z][A-Z0-9_]*$/);
      assert.ok(v.section in SECTIONS, name);
      for (const field of [v.accepts, v.shown, v.meaning]) assert.match(field, /^[^\n]+$/, name);
    }
  });
});
