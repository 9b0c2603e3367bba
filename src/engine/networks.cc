// The engine's network calls: the API's /networks routes and `silo network nat`, over the
// network service; connect and disconnect take the container's lock first.

#include "engine/engine_impl.h"

namespace silo::engine {

namespace {

void network_event(EventBus& bus, std::string_view action, const std::string& id,
                   const std::string& name, const std::string& type, Json extra = Json::object()) {
  extra["name"] = name;
  extra["type"] = type;
  bus.publish({.type = "network", .action = std::string(action), .actor_id = id,
               .attributes = extra});
}

}  // namespace

Result<Json> Engine::network_create(const Json& body) {
  auto made = impl_->net->create(body);
  if (!made) return std::unexpected(made.error());
  if (auto n = impl_->net->find(made->value("Id", "")))
    network_event(*impl_->events, "create", n->id, n->name, n->driver);
  return made;
}

Result<Json> Engine::network_inspect(std::string_view ref) {
  return impl_->net->inspect(ref);
}

Result<Json> Engine::network_list(const FilterMap& filters) {
  return impl_->net->list(filters);
}

Status Engine::network_remove(std::string_view ref) {
  auto n = impl_->net->find(ref);
  if (!n) return std::unexpected(n.error());
  SILO_TRY(impl_->net->remove(n->id));
  network_event(*impl_->events, "destroy", n->id, n->name, n->driver);
  return {};
}

Result<Json> Engine::network_prune(const FilterMap& filters) {
  auto gone = impl_->net->prune(filters);
  if (!gone) return std::unexpected(gone.error());
  Json names = Json::array();
  for (const auto& n : *gone) names.push_back(n);
  return Json{{"NetworksDeleted", names}};
}

Status Engine::network_connect(std::string_view net, const Json& body) {
  if (!body.is_object() || !body.contains("Container") || !body["Container"].is_string())
    return fail(Code::Invalid, "connect: name the container (\"Container\")");
  auto n = impl_->net->find(net);
  if (!n) return std::unexpected(n.error());
  auto locked = impl_->lock_container(body["Container"].get<std::string>());
  if (!locked) return std::unexpected(locked.error());
  ContainerRecord& rec = locked->rec;
  pid_t pid = is_running_status(rec.state.status) && rec.state.status != "restarting"
                  ? static_cast<pid_t>(rec.state.pid)
                  : 0;
  SILO_TRY(impl_->net->connect(rec, n->id, body.value("EndpointConfig", Json::object()), pid));
  SILO_TRY(impl_->store->update_container(rec));
  network_event(*impl_->events, "connect", n->id, n->name, n->driver, {{"container", rec.id}});
  return {};
}

Status Engine::network_disconnect(std::string_view net, const Json& body) {
  if (!body.is_object() || !body.contains("Container") || !body["Container"].is_string())
    return fail(Code::Invalid, "disconnect: name the container (\"Container\")");
  auto locked = impl_->lock_container(body["Container"].get<std::string>());
  if (!locked) return std::unexpected(locked.error());
  ContainerRecord& rec = locked->rec;
  auto n = impl_->net->find(net);
  SILO_TRY(impl_->net->disconnect(rec, net, body.value("Force", false)));
  SILO_TRY(impl_->store->update_container(rec));
  if (n)
    network_event(*impl_->events, "disconnect", n->id, n->name, n->driver,
                  {{"container", rec.id}});
  return {};
}

Result<Json> Engine::nat_list(std::string_view network) {
  return impl_->net->nat_list(network);
}

Status Engine::nat_add(const Json& body) {
  return impl_->net->nat_add(body);
}

Result<Json> Engine::nat_remove(std::string_view network, std::optional<uint16_t> port,
                                std::string_view proto) {
  return impl_->net->nat_remove(network, port, proto);
}

}  // namespace silo::engine
