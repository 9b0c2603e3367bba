// Store: the image index (images and the refs that name them).

#include "engine/store.h"
#include "engine/store_rows.h"

namespace silo::engine {
namespace {

constexpr std::string_view kColumns = "id, config, layers, created, size, parent";

Result<ImageRecord> read_row(const SqliteStmt& st) {
  ImageRecord r;
  r.id = st.text(0);
  r.config = st.text(1);
  auto layers = detail::json_column(st, 2, "image " + r.id + " layers");
  if (!layers) return std::unexpected(layers.error());
  r.layers = layers->is_array() ? std::move(*layers) : Json::array();
  r.created = st.text(3);
  r.size = st.integer(4);
  r.parent = st.text(5);
  return r;
}

// Every row's first column.
Result<std::vector<std::string>> texts(SqliteStmt& st) {
  std::vector<std::string> out;
  for (;;) {
    auto r = st.step();
    if (!r) return std::unexpected(r.error());
    if (!*r) return out;
    out.push_back(st.text(0));
  }
}

// The first row's first column, nullopt when there is no row.
Result<std::optional<std::string>> first_text(SqliteStmt& st) {
  auto r = st.step();
  if (!r) return std::unexpected(r.error());
  if (!*r) return std::optional<std::string>();
  return std::optional<std::string>(st.text(0));
}

}  // namespace

Status Store::put_image(const ImageRecord& rec) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("INSERT INTO images (" + std::string(kColumns) +
                        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(id) DO NOTHING");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, rec.id));
  SILO_TRY(st->bind(2, rec.config));
  SILO_TRY(st->bind(3, rec.layers.dump()));
  SILO_TRY(st->bind(4, rec.created));
  SILO_TRY(st->bind(5, rec.size));
  SILO_TRY(st->bind(6, rec.parent));
  return st->run();
}

Result<ImageRecord> Store::get_image(std::string_view id) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("SELECT " + std::string(kColumns) + " FROM images WHERE id = ?1");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, id));
  auto row = st->step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return fail(Code::NotFound, "No such image: " + std::string(id));
  auto rec = read_row(*st);
  if (!rec) return rec;
  auto refs = db_.prepare("SELECT ref FROM image_refs WHERE image_id = ?1 ORDER BY ref");
  if (!refs) return std::unexpected(refs.error());
  SILO_TRY(refs->bind(1, id));
  for (;;) {
    auto r = refs->step();
    if (!r) return std::unexpected(r.error());
    if (!*r) break;
    rec->refs.push_back(refs->text(0));
  }
  return rec;
}

Result<std::vector<std::string>> Store::image_ids_by_prefix(std::string_view hex_prefix) {
  std::lock_guard lock(mu_);
  // The prefix is hex only (checked by the caller), so LIKE has no wildcard in it.
  auto st = db_.prepare("SELECT id FROM images WHERE id LIKE ?1 ORDER BY id LIMIT 2");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, "sha256:" + std::string(hex_prefix) + "%"));
  return texts(*st);
}

Result<std::optional<std::string>> Store::image_by_ref(std::string_view ref) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("SELECT image_id FROM image_refs WHERE ref = ?1");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, ref));
  return first_text(*st);
}

Result<std::vector<ImageRecord>> Store::list_images() {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("SELECT id FROM images ORDER BY created DESC, id");
  if (!st) return std::unexpected(st.error());
  std::vector<std::string> ids;
  for (;;) {
    auto r = st->step();
    if (!r) return std::unexpected(r.error());
    if (!*r) break;
    ids.push_back(st->text(0));
  }
  std::vector<ImageRecord> out;
  for (const auto& id : ids) {
    auto rec = get_image(id);
    if (!rec) return std::unexpected(rec.error());
    out.push_back(std::move(*rec));
  }
  return out;
}

Status Store::set_image_ref(std::string_view ref, std::string_view id) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare(
      "INSERT INTO image_refs (ref, image_id) VALUES (?1, ?2) "
      "ON CONFLICT(ref) DO UPDATE SET image_id = excluded.image_id");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, ref));
  SILO_TRY(st->bind(2, id));
  auto r = st->run();
  if (!r) return fail(Code::NotFound, "No such image: " + std::string(id));
  return {};
}

Result<bool> Store::remove_image_ref(std::string_view ref) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("DELETE FROM image_refs WHERE ref = ?1");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, ref));
  SILO_TRY(st->run());
  return db_.changes() > 0;
}

Status Store::remove_image(std::string_view id) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("DELETE FROM images WHERE id = ?1");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, id));
  SILO_TRY(st->run());
  if (db_.changes() == 0) return fail(Code::NotFound, "No such image: " + std::string(id));
  return {};
}

Result<std::vector<std::string>> Store::image_children(std::string_view id) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("SELECT id FROM images WHERE parent = ?1 ORDER BY id");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, id));
  return texts(*st);
}

Result<std::optional<std::string>> Store::build_cache(std::string_view key) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare("SELECT image_id FROM build_cache WHERE key = ?1");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, key));
  return first_text(*st);
}

Status Store::set_build_cache(std::string_view key, std::string_view id) {
  std::lock_guard lock(mu_);
  auto st = db_.prepare(
      "INSERT INTO build_cache (key, image_id) VALUES (?1, ?2) "
      "ON CONFLICT(key) DO UPDATE SET image_id = excluded.image_id");
  if (!st) return std::unexpected(st.error());
  SILO_TRY(st->bind(1, key));
  SILO_TRY(st->bind(2, id));
  return st->run();
}

}  // namespace silo::engine
