// The ONE table of telemetry events. Each event logs (at its level, rate-limited) and counts.
// Per-record or per-batch events use level 'none': counted, never logged.

export type EventLevel = 'none' | 'debug' | 'info' | 'warn' | 'error';

export interface EventSpec {
  readonly level: EventLevel;
  readonly message: string;
  /** Counter the event increments (by its count, default 1). */
  readonly counter: string;
}

export const EVENTS = {
  // lifecycle
  component_started: { level: 'info', message: 'Component started.', counter: 'logship_component_starts_total' },
  component_stopped: { level: 'info', message: 'Component stopped.', counter: 'logship_component_stops_total' },
  // sources: generic
  source_batches: { level: 'none', message: 'Batches pushed.', counter: 'logship_source_batches_total' },
  source_lines: { level: 'none', message: 'Lines read.', counter: 'logship_source_lines_total' },
  source_bytes: { level: 'none', message: 'Bytes read.', counter: 'logship_source_bytes_total' },
  // sources/file
  file_opened: { level: 'info', message: 'Tailing file.', counter: 'logship_file_opens_total' },
  file_closed: { level: 'debug', message: 'File closed.', counter: 'logship_file_closes_total' },
  file_rotated: { level: 'info', message: 'File rotated; draining the old one.', counter: 'logship_file_rotations_total' },
  file_truncated: { level: 'warn', message: 'File truncated; reading from its start.', counter: 'logship_file_truncations_total' },
  file_deleted: { level: 'info', message: 'File deleted.', counter: 'logship_file_deletions_total' },
  file_read_error: { level: 'warn', message: 'File cannot be read.', counter: 'logship_file_read_errors_total' },
  file_line_split: { level: 'warn', message: 'Line longer than max_line_bytes split.', counter: 'logship_file_lines_split_total' },
  file_partial_flushed: { level: 'debug', message: 'Partial last line flushed after wait.', counter: 'logship_file_partial_flushes_total' },
  file_checkpoint_error: { level: 'error', message: 'Checkpoint cannot be written.', counter: 'logship_file_checkpoint_errors_total' },
  file_resend: { level: 'warn', message: 'Batch not delivered; re-reading the file from its last acknowledged offset.', counter: 'logship_file_resends_total' },
  batch_rejected: { level: 'error', message: 'Batch rejected by a destination; its lines are lost.', counter: 'logship_batches_rejected_total' },
  // ship (both sides)
  ship_connected: { level: 'info', message: 'Connected to upstream.', counter: 'logship_ship_connects_total' },
  ship_disconnected: { level: 'warn', message: 'Upstream connection lost.', counter: 'logship_ship_disconnects_total' },
  ship_refused: { level: 'error', message: 'Upstream refused this node.', counter: 'logship_ship_refusals_total' },
  ship_connect_failed: { level: 'warn', message: 'Cannot connect to upstream; trying the next one.', counter: 'logship_ship_connect_failures_total' },
  ship_batches_sent: { level: 'none', message: 'Batches sent.', counter: 'logship_ship_batches_sent_total' },
  ship_batches_resent: { level: 'none', message: 'Batches resent after reconnect.', counter: 'logship_ship_batches_resent_total' },
  ship_bytes_sent: { level: 'none', message: 'Bytes sent (compressed).', counter: 'logship_ship_bytes_sent_total' },
  listener_connection_opened: { level: 'info', message: 'Peer connected.', counter: 'logship_listener_connections_total' },
  listener_connection_closed: { level: 'info', message: 'Peer disconnected.', counter: 'logship_listener_disconnections_total' },
  listener_peer_error: { level: 'warn', message: 'Peer sent bad input; connection closed.', counter: 'logship_listener_peer_errors_total' },
  listener_connection_refused: { level: 'warn', message: 'Connection refused: max_connections reached.', counter: 'logship_listener_connections_refused_total' },
  listener_batches: { level: 'none', message: 'Batches received.', counter: 'logship_listener_batches_total' },
  // destinations/file
  file_dest_written: { level: 'none', message: 'Lines written.', counter: 'logship_file_dest_lines_total' },
  file_dest_bytes: { level: 'none', message: 'Bytes written.', counter: 'logship_file_dest_bytes_total' },
  file_dest_duplicates: { level: 'none', message: 'Duplicate lines dropped (already written).', counter: 'logship_file_dest_duplicates_total' },
  file_dest_gap: { level: 'warn', message: 'Stream resumed past its last written offset; bytes in between never arrived.', counter: 'logship_file_dest_gaps_total' },
  file_dest_recovered: { level: 'warn', message: 'Uncommitted tail cut from a file after a crash.', counter: 'logship_file_dest_recoveries_total' },
  file_dest_error: { level: 'error', message: 'File write failed; will retry.', counter: 'logship_file_dest_errors_total' },
  file_dest_recovery_skipped: { level: 'warn', message: 'Uncommitted file changed since the crash (rotated or truncated); left as it is.', counter: 'logship_file_dest_recovery_skips_total' },
  file_dest_journal_torn: { level: 'warn', message: 'Torn or corrupt journal tail ignored.', counter: 'logship_file_dest_journal_torn_total' },
  file_dest_held: { level: 'none', message: 'Batch held back: an earlier batch of its stream failed and awaits its retry.', counter: 'logship_file_dest_held_total' },
  // destinations/blackhole
  blackhole_lines: { level: 'none', message: 'Lines discarded.', counter: 'logship_blackhole_lines_total' },
  blackhole_bytes: { level: 'none', message: 'Bytes discarded.', counter: 'logship_blackhole_bytes_total' },
  // pipeline
  delivery_retry: { level: 'warn', message: 'Delivery failed; retrying.', counter: 'logship_delivery_retries_total' },
  reload_done: { level: 'info', message: 'Configuration reloaded.', counter: 'logship_reloads_total' },
  reload_failed: { level: 'error', message: 'New configuration refused; the old one keeps running.', counter: 'logship_reload_failures_total' },
} as const satisfies Record<string, EventSpec>;

export type EventName = keyof typeof EVENTS;
