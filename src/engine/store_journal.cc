// Store: the kernel-object journal that reconcile-on-boot walks, and the events ring.

#include "engine/store.h"
#include "engine/store_rows.h"

namespace silo::engine {

Result<int64_t> Store::record_kernel_object(const KernelObject& obj) {
  if (obj.kind.empty() || obj.key.empty())
    return fail(Code::Invalid, "kernel object needs a kind and a key");
  std::lock_guard lock(mu_);
  auto tx = SqliteTx::begin(db_);
  if (!tx) return std::unexpected(tx.error());
  // Re-recording is normal: a step retried after a crash records the same object again.
  auto st = db_.prepare(
      "INSERT INTO kernel_objects (kind, key, owner, data, created) VALUES (?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT (kind, key) DO UPDATE SET owner = excluded.owner, data = excluded.data "
      "RETURNING id");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, obj.kind));
  SILO_TRY(st->bind(2, obj.key));
  SILO_TRY(st->bind(3, obj.owner));
  SILO_TRY(st->bind(4, detail::json_text(obj.data)));
  SILO_TRY(st->bind(5, obj.created.empty() ? now_rfc3339() : obj.created));
  auto row = st->step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return fail(Code::Internal, "record kernel object: no id returned");
  int64_t id = st->integer(0);
  SILO_TRY(st->run());  // finish the statement before committing
  SILO_TRY(tx->commit());
  return id;
}

Status Store::forget_kernel_object(std::string_view kind, std::string_view key) {
  std::lock_guard lock(mu_);
  auto tx = SqliteTx::begin(db_);
  if (!tx) return std::unexpected(tx.error());
  auto st = db_.prepare("DELETE FROM kernel_objects WHERE kind = ?1 AND key = ?2");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, kind));
  SILO_TRY(st->bind(2, key));
  SILO_TRY(st->run());
  return tx->commit();
}

Result<std::vector<KernelObject>> Store::kernel_objects(std::optional<std::string_view> owner) {
  std::lock_guard lock(mu_);
  std::string sql = "SELECT id, kind, key, owner, data, created FROM kernel_objects";
  if (owner) sql += " WHERE owner = ?1";
  auto st = db_.prepare(sql + " ORDER BY id");
  if (!st) return std::unexpected(st.error());
  if (owner) SILO_TRY(st->bind(1, *owner));
  std::vector<KernelObject> out;
  for (;;) {
    auto row = st->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return out;
    KernelObject obj{st->integer(0), st->text(1),    st->text(2),
                     st->text(3),    Json::object(), st->text(5)};
    auto data = detail::json_column(*st, 4, "kernel object " + obj.kind + " " + obj.key);
    if (!data) return std::unexpected(data.error());
    obj.data = std::move(*data);
    out.push_back(std::move(obj));
  }
}

Result<int64_t> Store::append_event(const EventRecord& ev) {
  std::lock_guard lock(mu_);
  auto tx = SqliteTx::begin(db_);
  if (!tx) return std::unexpected(tx.error());
  auto st = db_.prepare(
      "INSERT INTO events (time_nano, type, action, actor_id, attributes) "
      "VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, ev.time_nano != 0 ? ev.time_nano : now_unix_nano()));
  SILO_TRY(st->bind(2, ev.type));
  SILO_TRY(st->bind(3, ev.action));
  SILO_TRY(st->bind(4, ev.actor_id));
  SILO_TRY(st->bind(5, detail::json_text(ev.attributes)));
  SILO_TRY(st->run());
  int64_t seq = db_.last_insert_rowid();
  auto trim = db_.prepare("DELETE FROM events WHERE seq <= ?1");
  if (!trim) return std::unexpected(trim.error());
  SILO_TRY(trim->bind(1, seq - kEventRing));
  SILO_TRY(trim->run());
  SILO_TRY(tx->commit());
  return seq;
}

Result<std::vector<EventRecord>> Store::events_since(int64_t since_nano) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare(
      "SELECT seq, time_nano, type, action, actor_id, attributes FROM events "
      "WHERE time_nano >= ?1 ORDER BY seq");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, since_nano));
  std::vector<EventRecord> out;
  for (;;) {
    auto row = st->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return out;
    EventRecord ev{st->integer(0), st->integer(1), st->text(2),
                   st->text(3),    st->text(4),    Json::object()};
    auto attrs = detail::json_column(*st, 5, "event " + std::to_string(ev.seq));
    if (!attrs) return std::unexpected(attrs.error());
    ev.attributes = std::move(*attrs);
    out.push_back(std::move(ev));
  }
}

}  // namespace silo::engine
