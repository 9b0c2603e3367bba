#pragma once
// The daemon's event stream (GET /events): every event is appended to the store's ring
// (so `--since` can replay it after a restart) and handed to live subscribers.
// Thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "common/error.h"
#include "engine/store.h"

namespace silo::engine {

class EventBus;

// One listener's queue. Dropping it unsubscribes.
class Subscription {
 public:
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  // The next event, or nullopt after `timeout` without one (so a streaming handler can
  // check whether its client left) or once the bus is closing.
  std::optional<EventRecord> next(std::chrono::milliseconds timeout);

 private:
  friend class EventBus;
  explicit Subscription(EventBus* bus) : bus_(bus) {}
  EventBus* bus_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<EventRecord> queue_;
  bool closed_ = false;
};

class EventBus {
 public:
  explicit EventBus(Store* store) : store_(store) {}
  ~EventBus();  // closes every subscription (their next() returns nullopt)

  // Records and broadcasts an event; time_nano 0 means now. A store failure is logged,
  // the event is still broadcast: an event is never worth failing an operation for.
  void publish(EventRecord ev);
  // Shorthand for a container event; `attributes` gets "name" and "image" added by
  // the caller as Docker does ({"image":"busybox","name":"web", "exitCode":"0"...}).
  void container(std::string_view action, std::string_view id, Json attributes);

  // Starts listening. Events published after this call are queued for it.
  std::unique_ptr<Subscription> subscribe();
  // Recorded events with time_nano >= since_nano (for `since`).
  [[nodiscard]] Result<std::vector<EventRecord>> history(int64_t since_nano);

  // Docker's events message for one record: {"Type","Action","Actor":{"ID","Attributes"},
  // "scope":"local","time","timeNano", and the legacy "status","id","from" for containers}.
  static Json message(const EventRecord& ev);

 private:
  friend class Subscription;
  void drop(Subscription* s);

  Store* store_;
  std::mutex mu_;
  std::vector<Subscription*> subs_;
};

}  // namespace silo::engine
