// The syslog-tcp source's component tests again, with node:net reading LF-framed connections (the
// fallback where the native reader is not built): see syslog-tcp.test.ts.
process.env['LOGSHIP_TEST_TCP_READER'] = 'node';
await import('./syslog-tcp.test.js');
