#include "engine/schema.h"

#include <string>

namespace silo::engine {
namespace {

// Version 1: containers, volumes and the references between them, and the journal of
// kernel objects that reconcile-on-boot walks.
// kernel_objects.owner deliberately has no foreign key: a container row may be removed
// while its mounts or cgroups are still being torn down, and reconcile must still see them.
constexpr std::string_view kV1 = R"sql(
CREATE TABLE containers (
  id               TEXT PRIMARY KEY CHECK (length(id) = 64),
  name             TEXT NOT NULL UNIQUE CHECK (name <> '' AND substr(name, 1, 1) <> '/'),
  image            TEXT NOT NULL DEFAULT '',
  image_id         TEXT NOT NULL DEFAULT '',
  created          TEXT NOT NULL,
  config           TEXT NOT NULL DEFAULT '{}',
  host_config      TEXT NOT NULL DEFAULT '{}',
  status           TEXT NOT NULL DEFAULT 'created' CHECK (status IN
                     ('created','running','paused','restarting','removing','exited','dead')),
  pid              INTEGER NOT NULL DEFAULT 0,
  exit_code        INTEGER NOT NULL DEFAULT 0,
  oom_killed       INTEGER NOT NULL DEFAULT 0,
  started_at       TEXT NOT NULL DEFAULT '',
  finished_at      TEXT NOT NULL DEFAULT '',
  restart_count    INTEGER NOT NULL DEFAULT 0,
  error            TEXT NOT NULL DEFAULT '',
  shim             TEXT NOT NULL DEFAULT '{}',
  network_settings TEXT NOT NULL DEFAULT '{}',
  labels           TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE volumes (
  name       TEXT PRIMARY KEY,
  driver     TEXT NOT NULL DEFAULT 'local',
  mountpoint TEXT NOT NULL,
  created    TEXT NOT NULL,
  labels     TEXT NOT NULL DEFAULT '{}',
  options    TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE container_volumes (
  container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
  volume_name  TEXT NOT NULL REFERENCES volumes(name),
  PRIMARY KEY (container_id, volume_name)
);
CREATE INDEX container_volumes_by_volume ON container_volumes(volume_name);
CREATE TABLE kernel_objects (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  kind    TEXT NOT NULL,
  key     TEXT NOT NULL,
  owner   TEXT NOT NULL DEFAULT '',
  data    TEXT NOT NULL DEFAULT '{}',
  created TEXT NOT NULL,
  UNIQUE (kind, key)
);
CREATE INDEX kernel_objects_by_owner ON kernel_objects(owner);
)sql";

// Version 2: the recent-events ring behind GET /events?since=.
constexpr std::string_view kV2 = R"sql(
CREATE TABLE events (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  time_nano  INTEGER NOT NULL,
  type       TEXT NOT NULL,
  action     TEXT NOT NULL,
  actor_id   TEXT NOT NULL DEFAULT '',
  attributes TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_by_time ON events(time_nano);
)sql";

// Version 3: the image index. An image is its config blob (id = "sha256:" + the config's
// digest) and its layers ([{"digest","diff_id","media_type","size"}], base first); the
// blobs themselves are files under <root>/image/blobs. A ref is a normalised tag
// ("docker.io/library/busybox:latest") or digest reference pointing at one image.
constexpr std::string_view kV3 = R"sql(
CREATE TABLE images (
  id      TEXT PRIMARY KEY CHECK (length(id) = 71 AND substr(id, 1, 7) = 'sha256:'),
  config  TEXT NOT NULL,
  layers  TEXT NOT NULL DEFAULT '[]',
  created TEXT NOT NULL,
  size    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE image_refs (
  ref      TEXT PRIMARY KEY,
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
);
CREATE INDEX image_refs_by_image ON image_refs(image_id);
)sql";

// Version 4: what `docker build` keeps. An image made by a build step knows its parent
// (the image the step ran on), so the intermediate images of a build stay out of
// `images` and prune, and leave with the image built on them; the build cache maps a
// step's cache key (image/build_cache.h) to the image that step made.
constexpr std::string_view kV4 = R"sql(
ALTER TABLE images ADD COLUMN parent TEXT NOT NULL DEFAULT '';
CREATE INDEX images_by_parent ON images(parent);
CREATE TABLE build_cache (
  key      TEXT PRIMARY KEY,
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
);
CREATE INDEX build_cache_by_image ON build_cache(image_id);
)sql";

// Version 5: the host network service. A network's driver state (IPAM subnets and their
// allocations, options, bridge or parent) is one JSON document; static NAT mappings
// (`silo network nat add`) are rows of their own and go with their network.
constexpr std::string_view kV5 = R"sql(
CREATE TABLE networks (
  id   TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  data TEXT NOT NULL
);
CREATE TABLE static_nat (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  network_id TEXT NOT NULL REFERENCES networks(id) ON DELETE CASCADE,
  data       TEXT NOT NULL
);
)sql";

Status apply(SqliteDb& db, const Migration& m) {
  auto tx = SqliteTx::begin(db);
  if (!tx) return std::unexpected(tx.error());
  SILO_TRY(db.exec(m.sql));
  // PRAGMA takes no bound parameters; the value is our own integer.
  SILO_TRY(db.exec("PRAGMA user_version = " + std::to_string(m.version)));
  return tx->commit();
}

}  // namespace

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> kAll = {
      {1, "containers, volumes, kernel objects", kV1},
      {2, "events ring", kV2},
      {3, "image index", kV3},
      {4, "image parents and the build cache", kV4},
      {5, "networks and static NAT mappings", kV5},
  };
  return kAll;
}

int latest_schema_version() {
  return static_cast<int>(migrations().size());
}

Status migrate(SqliteDb& db, int target) {
  if (target < 0) target = latest_schema_version();
  auto current = db.query_int("PRAGMA user_version");
  if (!current) return wrap(current.error(), "read schema version");
  if (*current > latest_schema_version())
    return fail(Code::Unavailable, "database schema version " + std::to_string(*current) +
                                       " is newer than this silod supports (" +
                                       std::to_string(latest_schema_version()) + ")");
  for (const Migration& m : migrations()) {
    if (m.version <= *current || m.version > target) continue;
    SILO_TRY_CTX(apply(db, m), "schema migration " + std::to_string(m.version) + " (" +
                                   std::string(m.description) + ")");
  }
  return {};
}

}  // namespace silo::engine
