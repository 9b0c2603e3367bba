// EventBus: store ring + in-memory fan-out to live subscribers.

#include "engine/events.h"

#include <algorithm>

#include "common/log.h"

namespace silo::engine {

Subscription::~Subscription() {
  if (bus_) bus_->drop(this);
}

std::optional<EventRecord> Subscription::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || closed_; });
  if (queue_.empty()) return std::nullopt;
  EventRecord ev = std::move(queue_.front());
  queue_.pop_front();
  return ev;
}

EventBus::~EventBus() {
  std::lock_guard lock(mu_);
  for (auto* s : subs_) {
    std::lock_guard sl(s->mu_);
    s->closed_ = true;
    s->bus_ = nullptr;
    s->cv_.notify_all();
  }
  subs_.clear();
}

void EventBus::publish(EventRecord ev) {
  if (ev.time_nano == 0) ev.time_nano = now_unix_nano();
  if (store_) {
    auto seq = store_->append_event(ev);
    if (seq)
      ev.seq = *seq;
    else
      spdlog::warn("event {} {}: not recorded: {}", ev.type, ev.action, seq.error().message);
  }
  std::lock_guard lock(mu_);
  for (auto* s : subs_) {
    std::lock_guard sl(s->mu_);
    s->queue_.push_back(ev);
    s->cv_.notify_all();
  }
}

void EventBus::container(std::string_view action, std::string_view id, Json attributes) {
  publish({.type = "container",
           .action = std::string(action),
           .actor_id = std::string(id),
           .attributes = std::move(attributes)});
}

std::unique_ptr<Subscription> EventBus::subscribe() {
  std::unique_ptr<Subscription> s(new Subscription(this));
  std::lock_guard lock(mu_);
  subs_.push_back(s.get());
  return s;
}

Result<std::vector<EventRecord>> EventBus::history(int64_t since_nano) {
  if (!store_) return std::vector<EventRecord>{};
  return store_->events_since(since_nano);
}

void EventBus::drop(Subscription* s) {
  std::lock_guard lock(mu_);
  subs_.erase(std::remove(subs_.begin(), subs_.end(), s), subs_.end());
}

Json EventBus::message(const EventRecord& ev) {
  Json attrs = ev.attributes.is_object() ? ev.attributes : Json::object();
  Json m = {{"Type", ev.type},
            {"Action", ev.action},
            {"Actor", {{"ID", ev.actor_id}, {"Attributes", attrs}}},
            {"scope", "local"},
            {"time", ev.time_nano / 1000000000},
            {"timeNano", ev.time_nano}};
  // Docker still sends the pre-1.22 fields for container events; old clients read them.
  if (ev.type == "container") {
    m["status"] = ev.action;
    m["id"] = ev.actor_id;
    if (attrs.contains("image")) m["from"] = attrs["image"];
  }
  return m;
}

}  // namespace silo::engine
