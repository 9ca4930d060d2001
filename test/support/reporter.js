'use strict';
// Mocha's spec output plus a closing "<label>: N passed, N failed, N skipped" line (label from
// PAPGATE_TEST_LABEL, default unit), and the same counts appended to $PAPGATE_TEST_SUMMARY for
// scripts/test.sh's total. Each failure's title and first message line go to
// $PAPGATE_TEST_FAILURES, which scripts/test.sh prints last: CI shows only the end of a long run.
const fs = require('node:fs');
const Mocha = require('mocha');
const { EVENT_RUN_END, EVENT_TEST_FAIL } = Mocha.Runner.constants;

class PapgateReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const label = process.env.PAPGATE_TEST_LABEL || 'unit';
    runner.on(EVENT_TEST_FAIL, (test, err) => {
      if (!process.env.PAPGATE_TEST_FAILURES) return;
      const message = String((err && err.message) || err)
        .split('\n')[0]
        .slice(0, 300);
      fs.appendFileSync(process.env.PAPGATE_TEST_FAILURES, `${label}: ${test.fullTitle()}: ${message}\n`);
    });
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats;
      const line = `${label}: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped`;
      process.stdout.write(`${line}\n`);
      if (process.env.PAPGATE_TEST_SUMMARY) {
        fs.appendFileSync(process.env.PAPGATE_TEST_SUMMARY, `${s.passes} ${s.failures} ${s.pending}\n`);
      }
    });
  }
}
module.exports = PapgateReporter;
