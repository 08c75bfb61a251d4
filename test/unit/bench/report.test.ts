// The benchmark report (bench/report.ts): a missed target links the scenario's analysis; a scenario
// whose targets are all met does not. Built from the real scenario files and synthetic run results.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { markdown, summarize, type ReportDoc, type ScenarioReport } from '../../../bench/report.js';
import { listScenarios, loadScenario } from '../../../bench/lib/scenario.js';
import type { RunResult } from '../../../bench/lib/runner.js';

function run(scenario: string, contender: string, kind: RunResult['kind'], msgsPerSec: number): RunResult {
  const lines = 1_000_000;
  return {
    scenario,
    contender,
    kind,
    run: 1,
    expected: lines,
    seconds: lines / msgsPerSec,
    msgsPerSec,
    mbPerSec: (msgsPerSec * 200) / 1e6,
    cpuSec: 1,
    rssMb: { server: 100 },
    otherCores: 0,
    check: { expected: lines, lines, unique: lines, lost: 0, duplicated: 0, foreign: 0, files: 50, misrouted: 0, lostRanges: '', foreignExample: '' },
    problems: [],
    broken: false,
    profiles: [],
  };
}

function report(name: string, ours: number, peer: number): ReportDoc {
  const results = [run(name, 'logship fsync', 'logship', ours), run(name, 'rsyslog', 'rsyslog', peer)];
  const sr: ScenarioReport = { scenario: loadScenario(name), lines: 1_000_000, summaries: summarize(results), results };
  return {
    command: 'npm run bench -- ' + name,
    startedAt: new Date(0),
    finishedAt: new Date(1000),
    quick: false,
    runs: 1,
    machine: { nproc: 2, model: 'test', kernel: 'test', memGB: 1, load1: 0 },
    loadAfter: 0,
    versions: {},
    limits: undefined,
    scenarios: [sr],
    failures: [],
    notes: [],
    profiles: [],
  };
}

test('a missed target links the analysis the scenario names; met targets do not', () => {
  const missed = markdown(report('s4-50-hosts', 1_000_000, 1_400_000));
  assert.match(missed, /msg\/s 0\.71× rsyslog \(target ≥ 1\.5×\): MISSED/);
  assert.match(missed, /Missed: the profile, the causes found and the changes measured are in \[`docs\/decisions\/0005-one-thread-per-process\.md`\]\(\.\.\/docs\/decisions\/0005-one-thread-per-process\.md\)/);
  const met = markdown(report('s4-50-hosts', 2_200_000, 1_400_000));
  assert.match(met, /\(target ≥ 1\.5×\): met/);
  assert.doesNotMatch(met, /Missed:/);
});

test('every throughput scenario names an analysis that exists', () => {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  for (const name of listScenarios()) {
    const s = loadScenario(name);
    if (s.targets.ratio === undefined) continue;
    assert.ok(s.analysis !== undefined, `${name}: no analysis`);
    assert.ok(existsSync(`${root}${s.analysis}`), `${name}: ${s.analysis} does not exist`);
  }
});
