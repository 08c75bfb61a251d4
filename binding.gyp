{
  "targets": [
    {
      "target_name": "logship_udp",
      "sources": ["native/udp_recv.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS!='linux'", {"sources!": ["native/udp_recv.c"], "sources": []}]]
    },
    {
      "target_name": "logship_tcp",
      "sources": ["native/tcp_read.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS!='linux'", {"sources!": ["native/tcp_read.c"], "sources": []}]]
    },
    {
      "target_name": "logship_fmt",
      "sources": ["native/line_runs.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    },
    {
      "target_name": "logship_parse",
      "sources": ["native/header_runs.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
