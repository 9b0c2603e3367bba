// Store: the containers table, and lookups with Docker's precedence.

#include <algorithm>

#include "engine/names.h"
#include "engine/store.h"
#include "engine/store_rows.h"

namespace silo::engine {
namespace {

constexpr std::string_view kColumns =
    "id, name, image, image_id, created, config, host_config, status, pid, exit_code, "
    "oom_killed, started_at, finished_at, restart_count, error, shim, network_settings, labels";

// Docker tries a plain generated name, then 5 more with a digit appended, then falls
// back to the short id (moby daemon/names.go).
constexpr int kNameTries = 6;

constexpr std::string_view kStatuses[] = {"created",  "running", "paused", "restarting",
                                          "removing", "exited",  "dead"};

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Status validate_record(const ContainerRecord& rec) {
  if (rec.id.size() != 64 || !is_hex(rec.id))
    return fail(Code::Invalid,
                "invalid container id \"" + rec.id + "\": want 64 lowercase hex digits");
  if (std::find(std::begin(kStatuses), std::end(kStatuses), rec.state.status) ==
      std::end(kStatuses))
    return fail(Code::Invalid, "invalid container status \"" + rec.state.status + "\"");
  return {};
}

Status bind_state(SqliteStmt& st, int first, const ContainerState& s) {
  SILO_TRY(st.bind(first, s.status));
  SILO_TRY(st.bind(first + 1, s.pid));
  SILO_TRY(st.bind(first + 2, s.exit_code));
  SILO_TRY(st.bind(first + 3, static_cast<int64_t>(s.oom_killed)));
  SILO_TRY(st.bind(first + 4, s.started_at));
  SILO_TRY(st.bind(first + 5, s.finished_at));
  SILO_TRY(st.bind(first + 6, s.restart_count));
  return st.bind(first + 7, s.error);
}

// Binds config .. labels (everything after the state) starting at `first`.
Status bind_documents(SqliteStmt& st, int first, const ContainerRecord& rec) {
  SILO_TRY(st.bind(first, detail::json_text(rec.config)));
  SILO_TRY(st.bind(first + 1, detail::json_text(rec.host_config)));
  SILO_TRY(st.bind(first + 2, detail::json_text(rec.shim)));
  SILO_TRY(st.bind(first + 3, detail::json_text(rec.network_settings)));
  return st.bind(first + 4, detail::labels_text(rec.labels));
}

Result<ContainerRecord> read_row(const SqliteStmt& st) {
  ContainerRecord r;
  r.id = st.text(0);
  r.name = st.text(1);
  r.image = st.text(2);
  r.image_id = st.text(3);
  r.created = st.text(4);
  std::string what = "container " + r.id;
  auto config = detail::json_column(st, 5, what + " config");
  auto host = detail::json_column(st, 6, what + " host config");
  auto shim = detail::json_column(st, 15, what + " shim");
  auto net = detail::json_column(st, 16, what + " network settings");
  auto labels = detail::labels_column(st, 17, what + " labels");
  for (const auto* j : {&config, &host, &shim, &net})
    if (!*j) return std::unexpected(j->error());
  if (!labels) return std::unexpected(labels.error());
  r.config = std::move(*config);
  r.host_config = std::move(*host);
  r.shim = std::move(*shim);
  r.network_settings = std::move(*net);
  r.labels = std::move(*labels);
  r.state = ContainerState{st.text(7),  st.integer(8), st.integer(9),  st.integer(10) != 0,
                           st.text(11), st.text(12),   st.integer(13), st.text(14)};
  return r;
}

Error not_found(std::string_view ref) {
  return Error{0, Code::NotFound, "No such container: " + std::string(ref)};
}

}  // namespace

Result<std::optional<ContainerRecord>> Store::find_container(std::string_view column,
                                                             std::string_view value) {
  auto st = db_.prepare("SELECT " + std::string(kColumns) + " FROM containers WHERE " +
                        std::string(column) + " = ?1");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, value));
  auto row = st->step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return std::optional<ContainerRecord>();
  auto rec = read_row(*st);
  if (!rec) return std::unexpected(rec.error());
  return std::optional<ContainerRecord>(std::move(*rec));
}

Result<std::optional<std::string>> Store::id_by_prefix(std::string_view prefix) {
  // Ids are lowercase hex, so a non-hex ref cannot be a prefix and has no GLOB metacharacters.
  if (prefix.empty() || !is_hex(prefix)) return std::optional<std::string>();
  auto st = db_.prepare("SELECT id FROM containers WHERE id GLOB ?1 || '*' ORDER BY id LIMIT 2");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, prefix));
  std::vector<std::string> ids;
  for (;;) {
    auto row = st->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    ids.push_back(st->text(0));
  }
  if (ids.size() > 1)
    return fail(Code::Invalid, "multiple IDs found with provided prefix: " + std::string(prefix));
  if (ids.empty()) return std::optional<std::string>();
  return std::optional<std::string>(ids.front());
}

Result<ContainerRecord> Store::get_container(std::string_view ref) {
  std::lock_guard lock(mu_);
  if (ref.empty()) return std::unexpected(not_found(ref));
  auto by_id = find_container("id", ref);
  if (!by_id) return std::unexpected(by_id.error());
  if (*by_id) return std::move(**by_id);
  auto by_name = find_container("name", strip_name_slash(ref));
  if (!by_name) return std::unexpected(by_name.error());
  if (*by_name) return std::move(**by_name);
  auto id = id_by_prefix(ref);
  if (!id) return std::unexpected(id.error());
  if (!*id) return std::unexpected(not_found(ref));
  auto rec = find_container("id", **id);
  if (!rec) return std::unexpected(rec.error());
  if (!*rec) return std::unexpected(not_found(ref));
  return std::move(**rec);
}

Result<std::vector<ContainerRecord>> Store::list_containers() {
  std::lock_guard lock(mu_);
  auto st =
      db_.prepare("SELECT " + std::string(kColumns) + " FROM containers ORDER BY created, id");
  if (!st) return std::unexpected(st.error());
  std::vector<ContainerRecord> out;
  for (;;) {
    auto row = st->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return out;
    auto rec = read_row(*st);
    if (!rec) return std::unexpected(rec.error());
    out.push_back(std::move(*rec));
  }
}

Status Store::name_conflict(std::string_view name) {
  auto st = db_.prepare("SELECT id FROM containers WHERE name = ?1");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, name));
  auto row = st->step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return {};
  return fail(Code::Conflict, "Conflict. The container name \"/" + std::string(name) +
                                  "\" is already in use by container \"" + st->text(0) +
                                  "\". You have to remove (or rename) that container to be able "
                                  "to reuse that name.");
}

Result<std::string> Store::insert_container(const ContainerRecord& rec, const std::string& name) {
  SILO_TRY(name_conflict(name));
  auto st = db_.prepare("INSERT INTO containers (" + std::string(kColumns) +
                        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                        "?15, ?16, ?17, ?18)");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, rec.id));
  SILO_TRY(st->bind(2, name));
  SILO_TRY(st->bind(3, rec.image));
  SILO_TRY(st->bind(4, rec.image_id));
  SILO_TRY(st->bind(5, rec.created.empty() ? now_rfc3339() : rec.created));
  SILO_TRY(st->bind(6, detail::json_text(rec.config)));
  SILO_TRY(st->bind(7, detail::json_text(rec.host_config)));
  SILO_TRY(bind_state(*st, 8, rec.state));
  SILO_TRY(st->bind(16, detail::json_text(rec.shim)));
  SILO_TRY(st->bind(17, detail::json_text(rec.network_settings)));
  SILO_TRY(st->bind(18, detail::labels_text(rec.labels)));
  auto ran = st->run();
  if (!ran && ran.error().code == Code::Conflict)
    return fail(Code::Conflict, "container id " + rec.id + " already exists");
  if (!ran) return std::unexpected(ran.error());
  return name;
}

Result<std::string> Store::create_container(const ContainerRecord& rec) {
  SILO_TRY(validate_record(rec));
  if (!rec.name.empty()) SILO_TRY(validate_container_name(rec.name));
  std::lock_guard lock(mu_);
  auto tx = SqliteTx::begin(db_);
  if (!tx) return std::unexpected(tx.error());
  Result<std::string> stored = fail(Code::Internal, "no name");
  if (!rec.name.empty()) {
    stored = insert_container(rec, std::string(strip_name_slash(rec.name)));
  } else {
    for (int i = 0; i <= kNameTries; ++i) {
      std::string name = i < kNameTries ? random_name(i) : rec.id.substr(0, 12);
      stored = insert_container(rec, name);
      if (stored || stored.error().code != Code::Conflict) break;
    }
  }
  if (!stored) return std::unexpected(stored.error());
  SILO_TRY(tx->commit());
  return stored;
}

Status Store::update_container(const ContainerRecord& rec) {
  SILO_TRY(validate_record(rec));
  std::lock_guard lock(mu_);
  auto tx = SqliteTx::begin(db_);
  if (!tx) return std::unexpected(tx.error());
  auto st = db_.prepare(
      "UPDATE containers SET status = ?2, pid = ?3, exit_code = ?4, oom_killed = ?5, "
      "started_at = ?6, finished_at = ?7, restart_count = ?8, error = ?9, config = ?10, "
      "host_config = ?11, shim = ?12, network_settings = ?13, labels = ?14, image = ?15, "
      "image_id = ?16 WHERE id = ?1");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, rec.id));
  SILO_TRY(bind_state(*st, 2, rec.state));
  SILO_TRY(bind_documents(*st, 10, rec));
  SILO_TRY(st->bind(15, rec.image));
  SILO_TRY(st->bind(16, rec.image_id));
  SILO_TRY(st->run());
  if (db_.changes() == 0) return std::unexpected(not_found(rec.id));
  return tx->commit();
}

Status Store::set_state(std::string_view id, const ContainerState& state) {
  std::lock_guard lock(mu_);
  auto tx = SqliteTx::begin(db_);
  if (!tx) return std::unexpected(tx.error());
  auto st = db_.prepare(
      "UPDATE containers SET status = ?2, pid = ?3, exit_code = ?4, oom_killed = ?5, "
      "started_at = ?6, finished_at = ?7, restart_count = ?8, error = ?9 WHERE id = ?1");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, id));
  SILO_TRY(bind_state(*st, 2, state));
  auto ran = st->run();
  if (!ran && ran.error().code == Code::Conflict)
    return fail(Code::Invalid, "invalid container status \"" + state.status + "\"");
  if (!ran) return std::unexpected(ran.error());
  if (db_.changes() == 0) return std::unexpected(not_found(id));
  return tx->commit();
}

Status Store::rename_container(std::string_view ref, std::string_view new_name) {
  // Checks and messages in moby's order (daemon/rename.go).
  if (ref.empty() || new_name.empty())
    return fail(Code::Invalid, "Neither old nor new names may be empty");
  std::string slashed = "/" + std::string(strip_name_slash(new_name));
  std::lock_guard lock(mu_);
  auto tx = SqliteTx::begin(db_);
  if (!tx) return std::unexpected(tx.error());
  auto rec = get_container(ref);
  if (!rec) return std::unexpected(rec.error());
  if (rec->name == strip_name_slash(new_name))
    return fail(Code::Invalid, "Renaming a container with the same name as its current name");
  SILO_TRY(validate_container_name(slashed));
  SILO_TRY_CTX(name_conflict(strip_name_slash(new_name)), "Error when allocating new name");
  auto st = db_.prepare("UPDATE containers SET name = ?2 WHERE id = ?1");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, rec->id));
  SILO_TRY(st->bind(2, strip_name_slash(new_name)));
  SILO_TRY(st->run());
  return tx->commit();
}

Status Store::remove_container(std::string_view id) {
  std::lock_guard lock(mu_);
  auto tx = SqliteTx::begin(db_);
  if (!tx) return std::unexpected(tx.error());
  auto st = db_.prepare("DELETE FROM containers WHERE id = ?1");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, id));
  SILO_TRY(st->run());
  if (db_.changes() == 0) return std::unexpected(not_found(id));
  return tx->commit();
}

}  // namespace silo::engine
