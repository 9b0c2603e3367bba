#pragma once
// silo-shim: the per-container supervisor (DESIGN.md, "Processes").
//
// One shim per container. It daemonizes (fork, setsid, fork) so it is never a child of
// whoever launched it, creates and starts the container through the runtime library
// (so the container's init is the shim's child), owns the init's stdio (pipes) or pty,
// writes the container log, serves attach, waits for the init, records the exit status,
// removes the runtime container, and exits.
//
// Command line (all paths absolute or relative to the caller's cwd):
//   silo-shim --id ID --bundle DIR --runtime-root DIR
//             [--log-path FILE] [--log-max-size BYTES] [--log-max-file N]
//             [--exit-file FILE] [--attach-socket PATH] [--tty] [--stdin] [--ready-fd N]
//
// Exec mode (docker exec): runs the OCI process in FILE (process.json) inside the running
// container ID through runtime::exec, as the process's subreaper, with the same stdio,
// attach protocol, exit file and start-up report ("pid" is the exec'd process). Its
// output is not logged (Docker does not log exec output), and at exit the container is
// left alone:
//   silo-shim --exec-id EID --id ID --process FILE --runtime-root DIR
//             [--attach-socket PATH] [--exit-file FILE] [--tty] [--stdin] [--ready-fd N]
//             [--wait-client-ms MS]
// --wait-client-ms: the process starts once a first attach client connected (or the time
// passed), so a client that connects as soon as the socket exists sees all its output.
//
// Start-up report. The launching process returns once the container runs or failed:
//   success: exit 0, stdout and --ready-fd get  {"pid":<init pid>,"shim_pid":<shim pid>}\n
//   failure: exit 1, stderr gets "silo-shim: <message>", --ready-fd gets
//            {"error":"<message>"}\n; nothing is left behind (no state dir, cgroup,
//            socket, exit file, nor a log file that was not there before).
//
// Files:
//   --log-path      Docker json-file lines {"log","stream","time"}; with --log-max-size > 0
//                   rotated to FILE.1 … FILE.<max-file - 1> once FILE reaches the size.
//   --exit-file     written atomically (temp + rename) after the init exited, its output
//                   was drained and the runtime container was removed:
//                   {"exit_code":N,"signal":S|null,"oom_killed":B,"finished_at":"RFC3339Nano"}
//   --attach-socket unix stream socket, mode 0600, removed at exit.
//
// Attach protocol (see protocol.h for the encoders):
//   shim -> client: with --tty the pty's raw bytes; otherwise one Docker multiplexed
//                   frame per chunk: [stream 1|2, 0, 0, 0, uint32 BE length] + payload.
//                   The shim closes the connection after the container's last output.
//   client -> shim: frames [type u8, uint32 BE length] + payload:
//                   1 stdin bytes, 2 close stdin (pipes only), 3 resize (u16 rows, u16 cols BE),
//                   4 replay: the shim keeps the output of the container's first
//                   kEarlyOutputMs (at most kMaxEarlyOutput bytes) and sends a client that
//                   asks, as its first request, what was output before it connected (so
//                   `docker run`, which attaches before the container starts, misses
//                   nothing). Later, or after output was sent to it, replay is ignored.
//                   Stdin is dropped unless --stdin was given.
//
// Signals: SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1/2 sent to the shim are forwarded to
// the init. (silod stops containers through runtime::kill; this is a safety net.)

#include <cstdint>
#include <string>

#include "common/error.h"

namespace silo::shim {

struct Options {
  std::string id;
  std::string exec_id;       // exec mode when set
  std::string process_file;  // exec mode: the OCI process (JSON) to run
  std::string bundle;
  std::string runtime_root;   // the runtime library's state dir (runtime::StateDir)
  std::string log_path;       // empty: no log
  uint64_t log_max_size = 0;  // 0: no rotation
  int log_max_file = 1;
  std::string exit_file;      // empty: not written
  std::string attach_socket;  // empty: no attach
  bool tty = false;           // a pty instead of pipes (the bundle's process.terminal must agree)
  bool stdin_open = false;    // give the container a stdin the attach clients feed
  int ready_fd = -1;          // also receives the start-up report
  int wait_client_ms = 0;     // wait this long for a first attach client before the process runs
                              // before running the process, so it misses no output
};

// True in exec mode.
inline bool is_exec(const Options& o) {
  return !o.exec_id.empty();
}

// Parses argv. Invalid errors name the flag; relative paths are made absolute.
[[nodiscard]] Result<Options> parse_args(int argc, const char* const* argv);

// The start-up report lines.
std::string ready_json(int pid, int shim_pid);
std::string error_json(const std::string& message);

}  // namespace silo::shim
