'use strict';
// Mocha's spec output plus a closing "<label>: N passed, N failed, N skipped" line (label from
// PAPGATE_TEST_LABEL, default unit), and the same counts
// appended to $PAPGATE_TEST_SUMMARY for scripts/test.sh's total.
const fs = require('node:fs');
const Mocha = require('mocha');
const { EVENT_RUN_END } = Mocha.Runner.constants;

class PapgateReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats;
      const label = process.env.PAPGATE_TEST_LABEL || 'unit';
      const line = `${label}: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped`;
      process.stdout.write(`${line}\n`);
      if (process.env.PAPGATE_TEST_SUMMARY) {
        fs.appendFileSync(process.env.PAPGATE_TEST_SUMMARY, `${s.passes} ${s.failures} ${s.pending}\n`);
      }
    });
  }
}
module.exports = PapgateReporter;
