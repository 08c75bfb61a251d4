#!/usr/bin/env node
// The `logship` command. It sizes libuv's thread pool, then runs dist/main.js.
//
// Every file write, fsync and open runs in that pool. A write cycle of the file destination appends
// to all its files at once, each append synced (O_DSYNC) and, for runs of repeated headers, preceded
// by their line copies in the same thread (src/destinations/file/line-runs.ts). With libuv's default
// of 4 threads, a cycle's 8 appends went in two waves. S4 with fsync, alternating rounds: 4 → 8
// threads +3.7 % (12 of 12 rounds faster), 8 → 16 +3 % (8 of 12); S4 without fsync and S1 were
// unchanged (docs/decisions/0005-one-thread-per-process.md).
//
// libuv reads UV_THREADPOOL_SIZE once, when the pool starts at its first job. For an ES module entry
// that job is the loader reading the entry file, before any of its code runs. So this entry is
// CommonJS (read synchronously) and sets the variable first. A value already set is kept.
//
// V8 considers a function for optimization (TurboFan, on a background thread) after it has run
// through its interrupt budget of bytecode a few times; the budget is 66 KiB by default (Node 20's
// V8 11.3). A fresh logship under load had V8's background threads compiling a good part of the
// time, on the cores its main thread needs: each batch's path runs through many functions, most
// called once per batch, not per line. With a budget eight times the default (528 KiB), V8
// optimizes fewer of them, later, the hot per-line loops still: 10-13 % faster in S1 and S4, about
// 15 % less CPU (docs/decisions/0005-one-thread-per-process.md; measured on Node 20 only). Set
// before any of logship's code is compiled, so all of it gets the budget; a budget given on node's
// own command line is kept.
'use strict';

process.env.UV_THREADPOOL_SIZE ??= '16';
if (!process.execArgv.some((a) => /^--interrupt[-_]budget\b/.test(a))) require('node:v8').setFlagsFromString('--interrupt-budget=540672');
import(require('node:url').pathToFileURL(require('node:path').join(__dirname, '..', 'dist', 'main.js')).href).catch((err) => {
  process.stderr.write(`logship: cannot start: ${err && err.stack ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
