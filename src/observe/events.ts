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
  upstream_down: { level: 'warn', message: 'Upstream marked down; tried again after its backoff.', counter: 'logship_upstream_down_total' },
  upstream_up: { level: 'info', message: 'Upstream marked down earlier is up again.', counter: 'logship_upstream_up_total' },
  upstream_probe_failed: { level: 'debug', message: 'Preferred upstream probed for failback; still unavailable.', counter: 'logship_upstream_probe_failures_total' },
  ship_failover: { level: 'warn', message: 'Failed over to another upstream; unacknowledged batches are resent there.', counter: 'logship_ship_failovers_total' },
  ship_failback: { level: 'info', message: 'Switched back to a preferred upstream.', counter: 'logship_ship_failbacks_total' },
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
  file_dest_streams_evicted: { level: 'warn', message: 'Least recently written streams forgotten: max_tracked_streams reached (a resend of one would be written again).', counter: 'logship_file_dest_streams_evicted_total' },
  file_dest_reorder_wait: {
    level: 'info',
    message: "Re-routed batch starts past its stream's written offset: parked until the lines before it come through the other relay (at most reorder_wait_ms).",
    counter: 'logship_file_dest_reorder_waits_total',
  },
  file_dest_failure_wait: {
    level: 'debug',
    message: 'A batch of this stream failed (see file_dest_error): its later batches wait for its retry (at most reorder_wait_ms).',
    counter: 'logship_file_dest_failure_waits_total',
  },
  file_dest_reordered: { level: 'info', message: 'The lines a parked stream waited for arrived; written in order.', counter: 'logship_file_dest_reordered_total' },
  file_dest_reorder_timeout: {
    level: 'warn',
    message: 'Waited reorder_wait_ms in vain: parked batches written past the gap; the missing lines are written after them when they come.',
    counter: 'logship_file_dest_reorder_timeouts_total',
  },
  file_dest_late_lines: { level: 'info', message: 'Late lines written into a hole, after newer lines of their stream.', counter: 'logship_file_dest_late_lines_total' },
  file_dest_holes_dropped: {
    level: 'warn',
    message: 'More than 64 holes in a stream: the oldest forgotten (its lines, if they come, are dropped as duplicates).',
    counter: 'logship_file_dest_holes_dropped_total',
  },
  file_dest_held: { level: 'none', message: 'Batch answered retryable: it was queued before its stream began to wait for an earlier batch.', counter: 'logship_file_dest_held_total' },
  // destinations/blackhole
  blackhole_lines: { level: 'none', message: 'Lines discarded.', counter: 'logship_blackhole_lines_total' },
  blackhole_bytes: { level: 'none', message: 'Bytes discarded.', counter: 'logship_blackhole_bytes_total' },
  // spool (src/spool: a source's disk spool)
  spool_opened: { level: 'info', message: 'Spool opened.', counter: 'logship_spool_opens_total' },
  spool_appended: { level: 'none', message: 'Records made durable in the spool.', counter: 'logship_spool_appended_records_total' },
  spool_dropped: {
    level: 'error',
    message: 'Spool full (when_full: drop-oldest): the oldest unread segment was deleted; its records are lost.',
    counter: 'logship_spool_dropped_records_total',
  },
  spool_full_blocking: { level: 'warn', message: 'Spool full (max_bytes): the source waits until delivered segments are deleted.', counter: 'logship_spool_full_total' },
  spool_recovered: { level: 'warn', message: 'Torn record at the spool tail cut after a crash; it had not been acknowledged.', counter: 'logship_spool_recoveries_total' },
  spool_corrupt: { level: 'error', message: 'Corrupt spool data skipped; the batches in it are lost.', counter: 'logship_spool_corruptions_total' },
  spool_cursor_reset: {
    level: 'warn',
    message: 'Spool cursor unusable; replaying from an earlier position (the receiver drops what it already has).',
    counter: 'logship_spool_cursor_resets_total',
  },
  spool_write_error: { level: 'error', message: 'Spool write failed; the batches were not acknowledged.', counter: 'logship_spool_write_errors_total' },
  spool_rejected: { level: 'error', message: 'Batch cannot be spooled (too large to encode); its lines are lost.', counter: 'logship_spool_rejected_total' },
  spool_stopped: { level: 'info', message: 'Spool stopped.', counter: 'logship_spool_stops_total' },
  // pipeline
  delivery_retry: { level: 'warn', message: 'Delivery failed; retrying.', counter: 'logship_delivery_retries_total' },
  reload_done: { level: 'info', message: 'Configuration reloaded.', counter: 'logship_reloads_total' },
  reload_failed: { level: 'error', message: 'New configuration refused; the old one keeps running.', counter: 'logship_reload_failures_total' },
  // sources/unix-dgram, unix-stream, pipe (local sources)
  local_listening: { level: 'info', message: 'Local socket or named pipe ready.', counter: 'logship_local_listens_total' },
  local_message_truncated: { level: 'warn', message: 'Message longer than the maximum truncated.', counter: 'logship_local_messages_truncated_total' },
  local_message_dropped: { level: 'warn', message: 'Datagram dropped: the router is not keeping up and datagrams cannot wait.', counter: 'logship_local_messages_dropped_total' },
  local_receive_error: { level: 'warn', message: 'Receiving on a local socket failed.', counter: 'logship_local_receive_errors_total' },
  local_push_failed: { level: 'error', message: 'Batch not taken by the router; its records are lost.', counter: 'logship_local_push_failures_total' },
  local_cleanup_failed: { level: 'warn', message: 'Socket or named pipe could not be removed on stop.', counter: 'logship_local_cleanup_failures_total' },
  local_connection_opened: { level: 'debug', message: 'Local stream client connected.', counter: 'logship_local_connections_total' },
  local_connection_closed: { level: 'debug', message: 'Local stream client disconnected.', counter: 'logship_local_disconnections_total' },
  local_connection_refused: { level: 'warn', message: 'Local stream connection refused: max_connections reached.', counter: 'logship_local_connections_refused_total' },
  local_peer_error: { level: 'warn', message: 'Local stream client sent bad framing; connection closed.', counter: 'logship_local_peer_errors_total' },
  pipe_line_split: { level: 'warn', message: 'Line longer than max_line_bytes split.', counter: 'logship_pipe_lines_split_total' },
  pipe_partial_flushed: { level: 'debug', message: 'Line without newline flushed after wait.', counter: 'logship_pipe_partial_flushes_total' },
  pipe_read_error: { level: 'error', message: 'Named pipe cannot be read; reopening.', counter: 'logship_pipe_read_errors_total' },
  // sources/syslog-udp, syslog-tcp, syslog-tls (network syslog)
  syslog_listening: { level: 'info', message: 'Syslog listener bound.', counter: 'logship_syslog_listens_total' },
  syslog_connection_opened: { level: 'debug', message: 'Syslog peer connected.', counter: 'logship_syslog_connections_total' },
  syslog_connection_closed: { level: 'debug', message: 'Syslog peer disconnected.', counter: 'logship_syslog_disconnections_total' },
  syslog_connection_refused: { level: 'warn', message: 'Syslog connection refused: max_connections reached.', counter: 'logship_syslog_connections_refused_total' },
  syslog_connection_idle: { level: 'debug', message: 'Idle syslog connection closed (idle_timeout_ms).', counter: 'logship_syslog_idle_closes_total' },
  syslog_connection_error: { level: 'debug', message: 'Syslog connection failed (reset or socket error).', counter: 'logship_syslog_connection_errors_total' },
  syslog_framing_error: { level: 'warn', message: 'Syslog peer broke the framing; its connection is closed.', counter: 'logship_syslog_framing_errors_total' },
  syslog_tls_handshake_failed: { level: 'warn', message: 'TLS handshake with a syslog peer failed.', counter: 'logship_syslog_tls_handshake_failures_total' },
  syslog_message_truncated: { level: 'warn', message: 'Syslog message longer than max_message_bytes truncated.', counter: 'logship_syslog_messages_truncated_total' },
  syslog_message_split: { level: 'warn', message: 'Syslog message longer than max_message_bytes split.', counter: 'logship_syslog_messages_split_total' },
  syslog_udp_dropped: { level: 'error', message: 'Datagram dropped: the pipeline is not keeping up (max_buffered_bytes reached).', counter: 'logship_syslog_udp_dropped_total' },
  syslog_udp_fallback: {
    level: 'warn',
    message: 'The native UDP receiver (recvmmsg) is not built: receiving through node:dgram, one datagram per callback (slower). Run `npm run build:native` (it needs python3, make and g++).',
    counter: 'logship_syslog_udp_fallbacks_total',
  },
  syslog_tcp_fallback: {
    level: 'warn',
    message:
      'The native TCP reader is not used: syslog-tcp connections are read through node:net (slower). Where it is not built, run `npm run build:native` (it needs python3, make and g++).',
    counter: 'logship_syslog_tcp_fallbacks_total',
  },
  syslog_udp_overflow: {
    level: 'warn',
    message: 'More UDP senders than have a flow of their own: datagrams of further senders share the overflow flow (host "udp-overflow" for messages without a hostname).',
    counter: 'logship_syslog_udp_overflow_datagrams_total',
  },
  syslog_push_failed: { level: 'error', message: 'Batch not taken by the router; its records are lost.', counter: 'logship_syslog_push_failures_total' },
  syslog_malformed: { level: 'warn', message: 'Syslog messages that do not parse kept whole as the message, with the source defaults.', counter: 'logship_syslog_malformed_total' },
  // destinations/syslog
  syslog_dest_connected: { level: 'info', message: 'Connected to the syslog receiver.', counter: 'logship_syslog_dest_connects_total' },
  syslog_dest_disconnected: { level: 'warn', message: 'Connection to the syslog receiver lost; unconfirmed batches are retried.', counter: 'logship_syslog_dest_disconnects_total' },
  syslog_dest_connect_failed: { level: 'warn', message: 'Cannot connect to the syslog receiver; retrying after backoff.', counter: 'logship_syslog_dest_connect_failures_total' },
  syslog_dest_send_failed: { level: 'warn', message: 'Datagrams could not be sent; the batch is retried.', counter: 'logship_syslog_dest_send_failures_total' },
  syslog_dest_messages: { level: 'none', message: 'Messages sent.', counter: 'logship_syslog_dest_messages_total' },
  syslog_dest_bytes: { level: 'none', message: 'Bytes sent (framing included).', counter: 'logship_syslog_dest_bytes_total' },
  syslog_dest_truncated: { level: 'warn', message: 'Messages longer than max_message_bytes cut to fit one datagram.', counter: 'logship_syslog_dest_messages_truncated_total' },
} as const satisfies Record<string, EventSpec>;

export type EventName = keyof typeof EVENTS;
