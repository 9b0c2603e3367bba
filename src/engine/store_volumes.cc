// Store: volumes and which containers use them.

#include "engine/store.h"
#include "engine/store_rows.h"

namespace silo::engine {
namespace {

constexpr std::string_view kColumns = "name, driver, mountpoint, created, labels, options";
constexpr std::string_view kVolumeChars = "[a-zA-Z0-9][a-zA-Z0-9_.-]";

bool name_char(char c, bool first) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return !first && (c == '_' || c == '.' || c == '-');
}

// The local driver's rule and message (moby volume/local).
Status validate_volume_name(std::string_view name) {
  bool ok = name.size() >= 2;
  for (size_t i = 0; ok && i < name.size(); ++i) ok = name_char(name[i], i == 0);
  if (ok) return {};
  return fail(Code::Invalid, "\"" + std::string(name) +
                                 "\" includes invalid characters for a local volume name, only \"" +
                                 std::string(kVolumeChars) +
                                 "\" are allowed. If you intended to pass a host directory, use "
                                 "absolute path");
}

Error no_such_volume(std::string_view op, std::string_view name) {
  return Error{0, Code::NotFound, std::string(op) + " " + std::string(name) + ": no such volume"};
}

Result<VolumeRecord> read_row(const SqliteStmt& st) {
  VolumeRecord v;
  v.name = st.text(0);
  v.driver = st.text(1);
  v.mountpoint = st.text(2);
  v.created = st.text(3);
  auto labels = detail::labels_column(st, 4, "volume " + v.name + " labels");
  if (!labels) return std::unexpected(labels.error());
  auto options = detail::labels_column(st, 5, "volume " + v.name + " options");
  if (!options) return std::unexpected(options.error());
  v.labels = std::move(*labels);
  v.options = std::move(*options);
  return v;
}

std::string join_ids(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ", ") + id;
  return out;
}

}  // namespace

Result<VolumeRecord> Store::get_volume(std::string_view name) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("SELECT " + std::string(kColumns) + " FROM volumes WHERE name = ?1");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, name));
  auto row = st->step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return std::unexpected(no_such_volume("get", name));
  return read_row(*st);
}

Result<VolumeRecord> Store::create_volume(const VolumeRecord& rec) {
  SILO_TRY(validate_volume_name(rec.name));
  if (rec.driver != "local")
    return fail(Code::NotFound, "error looking up volume plugin " + rec.driver + ": plugin \"" +
                                    rec.driver + "\" not found");
  std::lock_guard lock(mu_);
  auto tx = SqliteTx::begin(db_);
  if (!tx) return std::unexpected(tx.error());
  auto st = db_.prepare("INSERT INTO volumes (" + std::string(kColumns) +
                        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (name) DO NOTHING");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, rec.name));
  SILO_TRY(st->bind(2, rec.driver));
  SILO_TRY(st->bind(3, rec.mountpoint));
  SILO_TRY(st->bind(4, rec.created.empty() ? now_rfc3339() : rec.created));
  SILO_TRY(st->bind(5, detail::labels_text(rec.labels)));
  SILO_TRY(st->bind(6, detail::labels_text(rec.options)));
  SILO_TRY(st->run());
  auto stored = get_volume(rec.name);
  if (!stored) return std::unexpected(stored.error());
  SILO_TRY(tx->commit());
  return stored;
}

Result<std::vector<VolumeRecord>> Store::list_volumes() {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("SELECT " + std::string(kColumns) + " FROM volumes ORDER BY name");
  if (!st) return std::unexpected(st.error());
  std::vector<VolumeRecord> out;
  for (;;) {
    auto row = st->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return out;
    auto v = read_row(*st);
    if (!v) return std::unexpected(v.error());
    out.push_back(std::move(*v));
  }
}

Result<std::vector<std::string>> Store::volume_users(std::string_view name) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare(
      "SELECT container_id FROM container_volumes WHERE volume_name = ?1 ORDER BY container_id");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, name));
  std::vector<std::string> ids;
  for (;;) {
    auto row = st->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return ids;
    ids.push_back(st->text(0));
  }
}

Status Store::remove_volume(std::string_view name) {
  std::lock_guard lock(mu_);
  auto tx = SqliteTx::begin(db_);
  if (!tx) return std::unexpected(tx.error());
  auto vol = get_volume(name);
  if (!vol) return std::unexpected(vol.error());
  auto users = volume_users(name);
  if (!users) return std::unexpected(users.error());
  if (!users->empty())
    return fail(Code::Conflict,
                "remove " + std::string(name) + ": volume is in use - [" + join_ids(*users) + "]");
  auto st = db_.prepare("DELETE FROM volumes WHERE name = ?1");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, name));
  SILO_TRY(st->run());
  return tx->commit();
}

Status Store::add_volume_ref(std::string_view id, std::string_view name) {
  std::lock_guard lock(mu_);
  auto tx = SqliteTx::begin(db_);
  if (!tx) return std::unexpected(tx.error());
  SILO_TRY(get_volume(name));
  auto owner = db_.prepare("SELECT 1 FROM containers WHERE id = ?1");
  if (!owner) return std::unexpected(owner.error());
  SILO_TRY(owner->bind(1, id));
  auto found = owner->step();
  if (!found) return std::unexpected(found.error());
  if (!*found) return fail(Code::NotFound, "No such container: " + std::string(id));
  auto st = db_.prepare(
      "INSERT INTO container_volumes (container_id, volume_name) VALUES (?1, ?2) "
      "ON CONFLICT DO NOTHING");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, id));
  SILO_TRY(st->bind(2, name));
  SILO_TRY(st->run());
  return tx->commit();
}

Status Store::remove_volume_ref(std::string_view id, std::string_view name) {
  std::lock_guard lock(mu_);
  auto tx = SqliteTx::begin(db_);
  if (!tx) return std::unexpected(tx.error());
  auto st =
      db_.prepare("DELETE FROM container_volumes WHERE container_id = ?1 AND volume_name = ?2");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, id));
  SILO_TRY(st->bind(2, name));
  SILO_TRY(st->run());
  return tx->commit();
}

}  // namespace silo::engine
