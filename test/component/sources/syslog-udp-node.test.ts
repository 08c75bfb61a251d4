// The syslog-udp source's component tests again, with node:dgram as the receiver (the fallback
// where the native receiver is not built): see syslog-udp.test.ts.
process.env['LOGSHIP_TEST_UDP_RECEIVER'] = 'node';
await import('./syslog-udp.test.js');
