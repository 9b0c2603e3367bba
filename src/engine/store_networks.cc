// Store: networks and static NAT mappings.

#include "engine/store.h"
#include "engine/store_rows.h"

namespace silo::engine {

Status Store::put_network(const NetworkRecord& rec) {
  std::lock_guard lock(mu_);
  auto tx = SqliteTx::begin(db_);
  if (!tx) return std::unexpected(tx.error());
  auto other = db_.prepare("SELECT id FROM networks WHERE name = ?1 AND id != ?2");
  if (!other) return std::unexpected(other.error());
  SILO_TRY(other->bind(1, rec.name));
  SILO_TRY(other->bind(2, rec.id));
  auto found = other->step();
  if (!found) return std::unexpected(found.error());
  if (*found) return fail(Code::Conflict, "network with name " + rec.name + " already exists");
  auto st = db_.prepare(
      "INSERT INTO networks (id, name, data) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (id) DO UPDATE SET name = excluded.name, data = excluded.data");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, rec.id));
  SILO_TRY(st->bind(2, rec.name));
  SILO_TRY(st->bind(3, detail::json_text(rec.data)));
  SILO_TRY(st->run());
  return tx->commit();
}

Result<std::vector<NetworkRecord>> Store::list_networks() {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("SELECT id, name, data FROM networks ORDER BY name");
  if (!st) return std::unexpected(st.error());
  std::vector<NetworkRecord> out;
  for (;;) {
    auto row = st->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return out;
    NetworkRecord r{.id = st->text(0), .name = st->text(1)};
    auto data = detail::json_column(*st, 2, "network " + r.name);
    if (!data) return std::unexpected(data.error());
    r.data = std::move(*data);
    out.push_back(std::move(r));
  }
}

Status Store::remove_network(std::string_view id) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("DELETE FROM networks WHERE id = ?1");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, id));
  SILO_TRY(st->run());
  if (db_.changes() == 0) return fail(Code::NotFound, "network " + std::string(id) + " not found");
  return {};
}

Result<int64_t> Store::add_static_nat(const StaticNatRecord& rec) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("INSERT INTO static_nat (network_id, data) VALUES (?1, ?2)");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, rec.network_id));
  SILO_TRY(st->bind(2, detail::json_text(rec.data)));
  SILO_TRY(st->run());
  return db_.last_insert_rowid();
}

Result<std::vector<StaticNatRecord>> Store::list_static_nat() {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("SELECT id, network_id, data FROM static_nat ORDER BY id");
  if (!st) return std::unexpected(st.error());
  std::vector<StaticNatRecord> out;
  for (;;) {
    auto row = st->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return out;
    StaticNatRecord r{.id = st->integer(0), .network_id = st->text(1)};
    auto data = detail::json_column(*st, 2, "static NAT mapping");
    if (!data) return std::unexpected(data.error());
    r.data = std::move(*data);
    out.push_back(std::move(r));
  }
}

Status Store::remove_static_nat(int64_t id) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("DELETE FROM static_nat WHERE id = ?1");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, id));
  SILO_TRY(st->run());
  if (db_.changes() == 0)
    return fail(Code::NotFound, "static NAT mapping " + std::to_string(id) + " not found");
  return {};
}

}  // namespace silo::engine
