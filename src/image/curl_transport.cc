#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <optional>

#include "image/http_transport.h"

namespace silo::image {

std::string HttpResponse::header(std::string_view name) const {
  auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string() : it->second;
}

namespace {

using EasyPtr = std::unique_ptr<CURL, void (*)(CURL*)>;
using ListPtr = std::unique_ptr<curl_slist, void (*)(curl_slist*)>;

std::string host_of(const std::string& url) {
  auto start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  return url.substr(start, url.find('/', start) - start);
}

// The state of one transfer, shared by curl's callbacks.
struct Transfer {
  const BodySink* sink;
  HttpResponse response;
  std::optional<Error> error;
  ReadFn body_reader;
  std::string_view body;  // when the body is a string

  static size_t on_header(char* data, size_t size, size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    std::string_view line(data, size * n);
    // A new status line starts each response of a redirect chain (and a 100 Continue).
    if (line.starts_with("HTTP/")) {
      t->response.headers.clear();
      auto sp = line.find(' ');
      t->response.status = sp == std::string_view::npos ? 0 : std::atoi(line.data() + sp + 1);
      return size * n;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return size * n;
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.remove_suffix(1);
    t->response.headers.emplace(std::move(name), std::string(value));
    return size * n;
  }

  static size_t on_body(char* data, size_t size, size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    std::string_view chunk(data, size * n);
    if (*t->sink && t->response.status / 100 == 2) {
      if (auto s = (*t->sink)(t->response, chunk); !s) {
        t->error = s.error();
        return CURL_WRITEFUNC_ERROR;
      }
      return chunk.size();
    }
    t->response.body.append(chunk);
    // An error body is for a message; a registry has no reason to send megabytes of it.
    if (t->response.body.size() > (4u << 20)) return CURL_WRITEFUNC_ERROR;
    return chunk.size();
  }

  static size_t on_read(char* buf, size_t size, size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    if (!t->body_reader) {
      size_t k = std::min(size * n, t->body.size());
      std::copy_n(t->body.data(), k, buf);
      t->body.remove_prefix(k);
      return k;
    }
    auto r = t->body_reader(buf, size * n);
    if (!r) {
      t->error = r.error();
      return CURL_READFUNC_ABORT;
    }
    return *r;
  }
};

Error curl_error(CURLcode code, const char* detail, const HttpRequest& req) {
  std::string host = host_of(req.url);
  std::string why = detail && *detail ? detail : curl_easy_strerror(code);
  std::string msg = req.method + " " + req.url + ": ";
  // OpenSSL reads a plain HTTP answer's "HTTP/" as a TLS record of an unknown version.
  if (code == CURLE_SSL_CONNECT_ERROR && why.find("wrong version number") != std::string::npos)
    msg += "server gave HTTP response to HTTPS client (" + why + ")";
  else if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE)
    msg += "the TLS certificate of " + host + " is not trusted (" + why + ")";
  else
    msg += why;
  return Error{0, Code::Unavailable, msg};
}

class CurlTransport final : public Transport {
 public:
  explicit CurlTransport(CurlOptions o) : options_(std::move(o)) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  Result<HttpResponse> send(const HttpRequest& req, const BodySink& sink) override {
    EasyPtr easy(curl_easy_init(), curl_easy_cleanup);
    if (!easy) return fail(Code::Internal, "libcurl: curl_easy_init failed");
    CURL* c = easy.get();
    Transfer t{.sink = &sink};
    ListPtr headers(nullptr, curl_slist_free_all), resolve(nullptr, curl_slist_free_all);
    for (const auto& [k, v] : req.headers)
      headers.reset(curl_slist_append(headers.release(), (k + ": " + v).c_str()));
    // No "Expect: 100-continue" round trip before a blob upload.
    headers.reset(curl_slist_append(headers.release(), "Expect:"));
    for (const auto& r : options_.resolve)
      resolve.reset(curl_slist_append(resolve.release(), r.c_str()));
    char errbuf[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    if (resolve) curl_easy_setopt(c, CURLOPT_RESOLVE, resolve.get());
    curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options_.connect_timeout_s);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options_.low_speed_time_s);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, Transfer::on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Transfer::on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, req.tls_verify ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, req.tls_verify ? 2L : 0L);
    if (!req.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, req.ca_file.c_str());
    SILO_TRY(set_method(c, req, t));
    CURLcode code = curl_easy_perform(c);
    if (t.error) return std::unexpected(*t.error);
    if (code != CURLE_OK) return std::unexpected(curl_error(code, errbuf, req));
    char* last = nullptr;
    curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &last);
    t.response.url = last ? last : req.url;
    return std::move(t.response);
  }

 private:
  static Status set_method(CURL* c, const HttpRequest& req, Transfer& t) {
    if (req.method == "HEAD") {
      curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
      return {};
    }
    if (req.method == "GET") return {};
    bool streamed = static_cast<bool>(req.open_body);
    if (streamed) {
      auto reader = req.open_body();
      if (!reader) return std::unexpected(reader.error());
      t.body_reader = std::move(*reader);
    } else {
      t.body = req.body;
    }
    curl_off_t size = static_cast<curl_off_t>(streamed ? req.body_size : req.body.size());
    // UPLOAD makes a PUT with a read callback; POST and PATCH keep their verb through
    // CUSTOMREQUEST while still sending the body through the same callback.
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, size);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, Transfer::on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &t);
    if (req.method != "PUT") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    return {};
  }

  CurlOptions options_;
};

}  // namespace

std::unique_ptr<Transport> make_curl_transport(CurlOptions options) {
  return std::make_unique<CurlTransport>(std::move(options));
}

}  // namespace silo::image
