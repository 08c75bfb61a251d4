// Runtime flags that must be set before anything else is loaded: main.ts imports this first.
//
// V8 doubles the young generation (semi-space) as a process allocates, up to 16 MiB here; with
// batches of up to 1 MiB passing through, it grows to the top and stays there, holding garbage
// that a smaller one collects sooner. A growth factor of 1 keeps it at its initial size: a
// client's peak RSS drops by about 11 MB (S3 in bench/RESULTS.md).
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--semi-space-growth-factor=1');
