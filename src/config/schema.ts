// The top-level configuration document. Plug-in blocks are checked by their own schemas
// (from the catalogs), joined through their `type` tag, so each issue names the exact key.

import { hostname } from 'node:os';
import { z } from 'zod';

export const NAME_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const NODE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const componentName = 'names are lower case letters, digits, "-" and "_", starting with a letter or digit, at most 64';

export const nodeSchema = z
  .object({
    name: z
      .string()
      .regex(NODE_NAME_RE, 'a node name is letters, digits, ".", "-" and "_", at most 128')
      .default(() => hostname())
      .describe('This node\'s name: the origin of every record it reads and the host of its files on the server. Default: the hostname.'),
    state_dir: z
      .string()
      .min(1)
      .default('/var/lib/logship')
      .describe('Directory for checkpoints, journals and spools. Relative paths are relative to the working directory.'),
    role: z
      .enum(['client', 'relay', 'server'])
      .optional()
      .describe('Role announced to peers. Default: derived from the config (a ship listener and a ship destination: relay; a ship listener: server; else client).'),
  })
  .strict();

export const logSchema = z
  .object({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info').describe('Self-log level (stderr).'),
  })
  .strict();

export const pathSchema = z
  .object({
    from: z.array(z.string()).min(1).describe('Names of the sources whose batches this path takes.'),
    filter: z.string().min(1).optional().describe('A named filter, or an inline filter expression. Default: everything.'),
    to: z.array(z.string()).min(1).describe('Names of the destinations that receive the batches.'),
  })
  .strict();

export const documentSchema = z
  .object({
    node: nodeSchema.default(() => nodeSchema.parse({})).describe('This node.'),
    log: logSchema.default(() => logSchema.parse({})).describe('Self-logging.'),
    sources: z
      .record(z.string().regex(NAME_RE, componentName), z.record(z.string(), z.unknown()))
      .default({})
      .describe('Named sources, each with a `type`.'),
    filters: z
      .record(z.string().regex(NAME_RE, componentName), z.string().min(1))
      .default({})
      .describe('Named filter expressions.'),
    destinations: z
      .record(z.string().regex(NAME_RE, componentName), z.record(z.string(), z.unknown()))
      .default({})
      .describe('Named destinations, each with a `type`.'),
    paths: z.array(pathSchema).default([]).describe('Log paths: from sources, through an optional filter, to destinations.'),
  })
  .strict();

export type Document = z.output<typeof documentSchema>;
