// SPDX-License-Identifier: MIT
#include "config/config.h"

#include <algorithm>
#include <cstring>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>

#include "config/json_lines.h"
#include "config/whole_number.h"
#include "util/file_read.h"
#include "util/text.h"

namespace moa::config {
using nlohmann::json;

std::size_t Config::agent_count() const {
    std::size_t n = 0;
    for (const auto& l : layers) n += l.agents.size();
    return n;
}

std::string Issue::str() const {
    std::ostringstream o;
    o << file;
    if (line > 0) o << ':' << line;
    if (column > 0) o << ':' << column;
    o << ": ";
    if (severity == Severity::Warning) o << "warning: ";
    if (!pointer.empty()) o << pointer << ": ";
    o << message;
    return o.str();
}

std::string LoadResult::summary() const {
    std::string s;
    for (const auto& i : issues) s += i.str() + "\n";
    return s;
}

const char* to_string(Placement p) { return p == Placement::System ? "system" : "user"; }
const char* to_string(FailurePolicy p) { return p == FailurePolicy::Drop ? "drop" : "abort"; }
const char* to_string(Pipelining::Mode m) { return m == Pipelining::Mode::Barrier ? "barrier" : "staircase"; }
const char* to_string(Pipelining::Continuation c) {
    switch (c) {
    case Pipelining::Continuation::Instruction: return "instruction";
    case Pipelining::Continuation::AssistantPrefix: return "assistant_prefix";
    case Pipelining::Continuation::ContinueFinalMessage: return "continue_final_message";
    }
    return "?";
}

namespace {

std::string key_in_pointer(const std::string& key) { return text::pointer_token(key); }

// A bound as the user would write it: 100000, not 1e+05.
std::string shown(double v) {
    if (std::floor(v) == v && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

// "api_key" in any spelling (apiKey, API-KEY, x-api-key), but not "api_key_env".
bool api_key_name(const std::string& key) {
    std::string n;
    for (char c : key)
        if (c != '_' && c != '-') n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return n.find("apikey") != std::string::npos && n != "apikeyenv";
}

// Collects every problem of a document instead of stopping at the first.
class Checker {
public:
    Checker(const std::string& text, std::string label) : lines_(text), label_(std::move(label)) {
        for (const auto& [ptr, line] : lines_.duplicates()) {
            Issue i;
            i.file = label_;
            i.line = line;
            i.pointer = ptr;
            i.message = "this key is given twice in one object: JSON readers disagree on which one counts; keep one";
            issues.push_back(std::move(i));
        }
    }

    void error(const std::string& ptr, std::string msg) { add(Issue::Severity::Error, ptr, std::move(msg)); }
    void warning(const std::string& ptr, std::string msg) { add(Issue::Severity::Warning, ptr, std::move(msg)); }
    bool has_errors() const {
        for (const auto& i : issues) if (i.severity == Issue::Severity::Error) return true;
        return false;
    }

    // Warns about keys the schema does not know (likely typos); extra keys are allowed.
    void known_keys(const json& obj, const std::string& ptr, std::initializer_list<const char*> keys) {
        std::set<std::string> k(keys.begin(), keys.end());
        for (auto it = obj.begin(); it != obj.end(); ++it)
            // (A key's field is an error of its own, from refuse_keys_anywhere.)
            if (!k.count(it.key()) && it.key().rfind("x-", 0) != 0 && it.key() != "$comment" && !api_key_name(it.key()))
                warning(ptr + "/" + key_in_pointer(it.key()), "unknown field, ignored");
    }

    std::optional<std::string> str(const json& obj, const std::string& ptr, const char* key, bool required,
                                   bool non_empty = false) {
        auto it = obj.find(key);
        std::string p = ptr + "/" + key;
        if (it == obj.end() || it->is_null()) {
            if (required) error(p, "required");
            return std::nullopt;
        }
        if (!it->is_string()) {
            error(p, std::string("must be a string, not ") + it->type_name());
            return std::nullopt;
        }
        if (non_empty && it->get_ref<const std::string&>().empty()) {
            error(p, "must not be empty");
            return std::nullopt;
        }
        return it->get<std::string>();
    }

    std::optional<double> num(const json& obj, const std::string& ptr, const char* key, double lo, double hi,
                              bool integer = false) {
        auto it = obj.find(key);
        std::string p = ptr + "/" + key;
        if (it == obj.end() || it->is_null()) return std::nullopt;
        // Every message about a number says what the field takes, so one fix is enough.
        const std::string takes = std::string(" (") + key + " must be " + (integer ? "an integer" : "a number") +
                                  " between " + shown(lo) + " and " + shown(hi) + ")";
        if (!it->is_number()) {
            error(p, std::string("must be ") + (integer ? "an integer" : "a number") + ", not " + it->type_name() + takes);
            return std::nullopt;
        }
        const double v = it->get<double>();
        // A whole number written with an exponent or a point (1e20, 32.0) is a whole number: it
        // is checked against the range, not called a fraction.
        if (integer && !is_whole_number(*it)) {
            error(p, "must be an integer, not a fraction: " + it->dump() + takes);
            return std::nullopt;
        }
        if (!std::isfinite(v) || v < lo || v > hi) {
            error(p, "out of range: " + it->dump() + " is not within [" + shown(lo) + ", " + shown(hi) + "]" + takes);
            return std::nullopt;
        }
        return v;
    }

    std::vector<Issue> issues;

private:
    void add(Issue::Severity s, const std::string& ptr, std::string msg) {
        Issue i;
        i.severity = s;
        i.file = label_;
        i.line = lines_.line_of(ptr);
        i.pointer = ptr.empty() ? "/" : ptr;
        i.message = std::move(msg);
        issues.push_back(std::move(i));
    }
    JsonLineMap lines_;
    std::string label_;
};

// RFC 9110 token characters: anything else in a name would break the request's header block.
bool header_name_ok(const std::string& name) {
    if (name.empty()) return false;
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos)
            return false;
    return true;
}

// Headers that frame or route the request: set by libcurl from base_url and the body, never by a file.
bool framing_header(const std::string& name) {
    const std::string n = text::to_lower(name);
    for (const char* f : {"host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer",
                          "expect", "keep-alive", "proxy-connection", "content-encoding"})
        if (n == f) return true;
    return false;
}

// Why a file may not name this header, neither in "headers" nor as "key_header" (one list for both:
// a key sent as Host or Content-Length goes to another virtual host or breaks the framing); empty
// when it may. Key-bearing names are left to the caller: they are the point of "key_header".
std::string reserved_header_reason(const std::string& name) {
    if (!header_name_ok(name)) return "not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)";
    if (framing_header(name))
        return "this header frames or routes the request (Host, Content-Length, Transfer-Encoding, Connection, "
               "Expect, …): libcurl sets it from base_url and the body, and a value here could send the key to "
               "another host or smuggle a second request";
    return {};
}

// What is wrong with a provider's base_url, empty when nothing is. Checked here rather than left to
// libcurl: a control character or space fails only at the first call (after `moa validate` said
// OK), and a password in the URL would be stored in every run's configuration snapshot.
// `u` with a user name and password (scheme://user:password@host) replaced by "***", to quote in a
// message: an ftp:// URL is refused for its scheme, but its password must not be shown for that.
std::string without_userinfo(const std::string& u) {
    // The authority starts after "scheme:" and however many slashes follow (review 10: "ftp:/u:pw@h",
    // with one slash, was quoted whole).
    std::size_t host = 0;
    const std::size_t colon = u.find(':');
    if (colon != std::string::npos && colon > 0 && colon + 1 < u.size() && (u[colon + 1] == '/' || u[colon + 1] == '\\') &&
        std::all_of(u.begin(), u.begin() + static_cast<std::ptrdiff_t>(colon),
                    [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.'; })) {
        host = colon + 1;
        while (host < u.size() && (u[host] == '/' || u[host] == '\\')) ++host;
    }
    const std::size_t end = std::min(u.find_first_of("/?#", host), u.size());
    const std::size_t at = u.rfind('@', end == 0 ? 0 : end - 1);
    if (at == std::string::npos || at < host || at >= end) return u;
    return u.substr(0, host) + "***" + u.substr(at);
}

std::string base_url_problem(const std::string& u) {
    for (std::size_t i = 0; i < u.size(); ++i) {
        const auto c = static_cast<unsigned char>(u[i]);
        if (c <= 0x20 || c == 0x7f)
            return "must not contain spaces or control characters (CR, LF, NUL, tab, …): found " +
                   std::string(c == ' ' ? "a space" : c == '\r' ? "CR" : c == '\n' ? "LF" : c == 0 ? "NUL" : "a control character") +
                   " at character " + std::to_string(i + 1);
    }
    const bool https = text::starts_with_ci(u, "https://");
    if (!https && !text::starts_with_ci(u, "http://"))
        return "must start with http:// or https:// (got \"" + text::quote_start(without_userinfo(u)) + "\")";
    const std::size_t host = https ? 8 : 7;
    const std::size_t end = u.find_first_of("/?#", host);
    if (u.substr(host, end == std::string::npos ? std::string::npos : end - host).find('@') != std::string::npos)
        return "must not contain a user name or password (user:password@host): put credentials in api_key_env, "
               "not the URL";
    return {};
}

// Names that carry a credential (X-Api-Key, api-key, X-Auth-Token, Proxy-Authorization, Cookie):
// their values would be stored in every run's configuration snapshot.
bool key_bearing_header(const std::string& name) {
    const std::string n = text::to_lower(name);
    for (const char* word : {"key", "token", "auth", "secret", "password", "cookie", "credential", "session", "signature"})
        if (n.find(word) != std::string::npos) return true;
    return false;
}

// Headers whose values are identifiers or versions, not secrets, though some look like tokens
// (OpenAI-Organization: org- and 24 letters and digits).
bool harmless_header(const std::string& name) {
    const std::string n = text::to_lower(name);
    for (const char* h : {"openai-organization", "openai-project", "anthropic-version", "anthropic-beta", "user-agent", "accept",
                          "accept-language", "http-referer", "referer", "x-title", "x-request-id", "x-client-request-id"})
        if (n == h) return true;
    return false;
}

// Why a header value looks like a credential under a name that does not say so (X-Access:
// sk-…), empty when it does not: a scheme (Bearer, Basic), a key-shaped prefix (sk-, sk_, key-),
// or, unless the header is known harmless, a long random-looking token (a run of 20 or more
// letters and digits with both in it, or 24 or more characters of mixed case and digits).
// Dates, versions and UUIDs ("prompt-caching-2024-07-31") are short runs and pass.
std::string secret_value_reason(const std::string& name, const std::string& value) {
    const std::string v = text::trim(value);
    // An authorisation scheme and white space (a tab too: review 10's "Bearer<TAB>sk-…").
    for (const char* scheme : {"bearer", "basic", "token"}) {
        const std::size_t n = std::strlen(scheme);
        if (text::starts_with_ci(v, scheme) && v.size() > n && (v[n] == ' ' || v[n] == '\t')) {
            std::string shown = scheme;
            shown[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(shown[0])));
            return "the value starts with \"" + shown + " \": it carries a credential";
        }
    }
    for (const char* prefix : {"sk-", "sk_", "key-"})
        if (text::starts_with_ci(v, prefix)) return std::string("the value starts with \"") + prefix + "\", as keys do";
    if (harmless_header(name)) return {};
    // A key-shaped token anywhere in the value ("key=sk-…", Slack's xoxb-, GitHub's ghp_), or a
    // credential assigned by name (review 10).
    const std::string lv = text::to_lower(v);
    for (std::size_t i = 0; i < lv.size(); ++i) {
        if (i > 0 && std::isalnum(static_cast<unsigned char>(lv[i - 1]))) continue;
        for (const char* prefix : {"sk-", "sk_", "key-", "xoxb-", "xoxp-", "xoxa-", "xoxs-", "ghp_", "gho_", "github_pat_"})
            if (lv.compare(i, std::strlen(prefix), prefix) == 0)
                return std::string("the value holds a token starting with \"") + prefix + "\", as keys do";
        for (const char* assigned : {"key=", "apikey=", "api_key=", "token=", "secret=", "password="})
            if (lv.compare(i, std::strlen(assigned), assigned) == 0)
                return std::string("the value assigns \"") + assigned + "\": it carries a credential";
    }
    auto token_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; };
    std::size_t run = 0;
    bool letter = false, digit = false;
    for (std::size_t i = 0; i <= v.size(); ++i) {
        const char c = i < v.size() ? v[i] : ' ';
        if (std::isalnum(static_cast<unsigned char>(c))) {
            ++run;
            letter = letter || std::isalpha(static_cast<unsigned char>(c));
            digit = digit || std::isdigit(static_cast<unsigned char>(c));
            continue;
        }
        if (run >= 20 && letter && digit) return "the value holds a long random-looking token, as keys are";
        run = 0;
        letter = digit = false;
    }
    if (v.size() >= 24 && std::all_of(v.begin(), v.end(), token_char) &&
        std::any_of(v.begin(), v.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)); }) &&
        std::any_of(v.begin(), v.end(), [](char c) { return std::islower(static_cast<unsigned char>(c)); }) &&
        std::any_of(v.begin(), v.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
        return "the value looks like a key (a long token of mixed-case letters and digits)";
    return {};
}

// "api_key" (any spelling: apiKey, API-KEY, x-api-key) anywhere in the document is an error,
// wherever it is: a key in a shared file is as leaked at the top level as in a provider.
void refuse_keys_anywhere(Checker& ck, const json& j, const std::string& ptr) {
    if (j.is_array()) {
        for (std::size_t i = 0; i < j.size(); ++i) refuse_keys_anywhere(ck, j[i], ptr + "/" + std::to_string(i));
        return;
    }
    if (!j.is_object()) return;
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string p = ptr + "/" + key_in_pointer(it.key());
        if (api_key_name(it.key()) && ptr.find("/headers") == std::string::npos)
            ck.error(p, "API keys never go into a configuration file; put the key in an environment "
                        "variable and name that variable in \"api_key_env\"");
        refuse_keys_anywhere(ck, *it, p);
    }
}

void read_provider(Checker& ck, const json& pj, const std::string& ptr, Provider& p) {
    if (!pj.is_object()) {
        ck.error(ptr, "a provider must be an object");
        return;
    }
    ck.known_keys(pj, ptr, {"type", "base_url", "api_key_env", "max_concurrency", "connect_timeout_ms",
                            "first_token_timeout_ms", "idle_timeout_ms", "call_timeout_ms", "max_retries", "retry_base_ms",
                            "retry_max_ms", "headers", "tokens_per_second", "first_token_ms", "max_answer_bytes",
                            "keychain_entry", "label", "models", "tls_verify", "ca_file", "key_header"});
    // ("api_key" and its spellings are refused wherever they are, by refuse_keys_anywhere.)
    for (const char* secret : {"key", "token"}) {
        if (pj.contains(secret))
            ck.error(ptr + "/" + secret,
                     "API keys never go into a configuration file; put the key in an environment "
                     "variable and name that variable in \"api_key_env\"");
    }
    if (auto t = ck.str(pj, ptr, "type", false)) {
        if (*t == "openai" || *t == "openai-compatible") p.type = ProviderType::OpenAi;
        else if (*t == "demo") p.type = ProviderType::Demo;
        else ck.error(ptr + "/type", "unknown provider type \"" + *t + "\" (use \"openai\" or \"demo\")");
    }
    if (p.type == ProviderType::OpenAi) {
        if (auto u = ck.str(pj, ptr, "base_url", true, true)) {
            if (auto why = base_url_problem(*u); !why.empty()) ck.error(ptr + "/base_url", why);
            p.base_url = *u;
            while (!p.base_url.empty() && p.base_url.back() == '/') p.base_url.pop_back();
        }
    }
    if (auto k = ck.str(pj, ptr, "api_key_env", false)) {
        bool valid = !k->empty();
        for (char c : *k)
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) valid = false;
        if (!valid)
            ck.error(ptr + "/api_key_env",
                     "must be the NAME of an environment variable (letters, digits, _), not a key");
        else p.api_key_env = *k;
    }
    if (auto v = ck.num(pj, ptr, "max_concurrency", 1, 1024, true)) p.max_concurrency = int(*v);
    if (auto v = ck.num(pj, ptr, "connect_timeout_ms", 1, 600'000, true)) p.connect_timeout_ms = long(*v);
    if (auto v = ck.num(pj, ptr, "first_token_timeout_ms", 1, 3'600'000, true)) p.first_token_timeout_ms = long(*v);
    if (auto v = ck.num(pj, ptr, "idle_timeout_ms", 1, 3'600'000, true)) p.idle_timeout_ms = long(*v);
    if (auto v = ck.num(pj, ptr, "call_timeout_ms", 1, 86'400'000, true)) p.call_timeout_ms = long(*v);
    if (auto v = ck.num(pj, ptr, "max_retries", 0, 20, true)) p.max_retries = int(*v);
    if (auto v = ck.num(pj, ptr, "retry_base_ms", 0, 600'000, true)) p.retry_base_ms = long(*v);
    if (auto v = ck.num(pj, ptr, "retry_max_ms", 0, 3'600'000, true)) p.retry_max_ms = long(*v);
    if (auto v = ck.num(pj, ptr, "max_answer_bytes", 1024, 1e9, true)) p.max_answer_bytes = static_cast<std::size_t>(*v);
    if (auto v = ck.num(pj, ptr, "tokens_per_second", 0.1, 1e7)) p.demo_tokens_per_second = *v;
    if (auto v = ck.num(pj, ptr, "first_token_ms", 0, 600'000, true)) p.demo_first_token_ms = long(*v);
    if (auto v = pj.find("tls_verify"); v != pj.end()) {
        if (!v->is_boolean()) ck.error(ptr + "/tls_verify", "must be true or false");
        else p.tls_verify = v->get<bool>();
        if (!p.tls_verify)
            ck.warning(ptr + "/tls_verify",
                       "TLS certificate verification is OFF for this provider: anyone between you and the "
                       "server can read the key and the answers; to trust a self-signed certificate, name it "
                       "in \"ca_file\" instead");
    }
    if (auto f = ck.str(pj, ptr, "ca_file", false)) {
        std::error_code ec;
        if (f->empty() || (*f)[0] != '/') ck.error(ptr + "/ca_file", "must be an absolute path to a PEM certificate file");
        else if (!std::filesystem::is_regular_file(*f, ec))
            ck.warning(ptr + "/ca_file", "no such file: " + *f + " (connections to this provider will fail)");
        p.ca_file = *f;
    }
    if (auto kh = ck.str(pj, ptr, "key_header", false, true)) {
        if (text::to_lower(*kh) == "authorization")
            ck.error(ptr + "/key_header", "leave \"key_header\" out to send the key as \"Authorization: Bearer\"");
        else if (auto why = reserved_header_reason(*kh); !why.empty()) ck.error(ptr + "/key_header", why);
        else p.key_header = *kh;
    }
    if (auto ms = pj.find("models"); ms != pj.end()) {
        if (!ms->is_object()) ck.error(ptr + "/models", "must map model ids to {\"input_usd_per_mtok\", \"output_usd_per_mtok\", \"active_params_b\"}");
        else
            for (auto it = ms->begin(); it != ms->end(); ++it) {
                const std::string mp = ptr + "/models/" + key_in_pointer(it.key());
                if (!it->is_object()) {
                    ck.error(mp, "must be an object");
                    continue;
                }
                ck.known_keys(*it, mp, {"input_usd_per_mtok", "output_usd_per_mtok", "active_params_b"});
                ModelOverride o;
                if (auto v = ck.num(*it, mp, "input_usd_per_mtok", 0, 1e6)) o.input_usd_per_mtok = *v;
                if (auto v = ck.num(*it, mp, "output_usd_per_mtok", 0, 1e6)) o.output_usd_per_mtok = *v;
                if (auto v = ck.num(*it, mp, "active_params_b", 0, 1e6)) o.active_params_b = *v;
                p.models[it.key()] = o;
            }
    }
    if (auto h = pj.find("headers"); h != pj.end()) {
        if (!h->is_object()) ck.error(ptr + "/headers", "must be an object of header names to strings");
        else
            for (auto it = h->begin(); it != h->end(); ++it) {
                if (!it->is_string()) {
                    ck.error(ptr + "/headers/" + key_in_pointer(it.key()), "must be a string");
                    continue;
                }
                const std::string hp = ptr + "/headers/" + key_in_pointer(it.key());
                const std::string& v = it->get_ref<const std::string&>();
                if (!header_name_ok(it.key()))
                    ck.error(hp, reserved_header_reason(it.key()));
                else if (text::to_lower(it.key()) == "authorization")
                    ck.error(hp, "the Authorization header is built from \"api_key_env\"; keys never go "
                                 "into a configuration file");
                else if (auto why = reserved_header_reason(it.key()); !why.empty())
                    ck.error(hp, why);
                else if (key_bearing_header(it.key()))
                    ck.error(hp, "a header named like this carries a key, and keys never go into a configuration "
                                 "file: put the key in an environment variable named in \"api_key_env\" and set "
                                 "\"key_header\": \"" + it.key() + "\" to send it in this header");
                else if (v.find_first_of(std::string("\r\n\0", 3)) != std::string::npos)
                    ck.error(hp, "must not contain CR, LF or NUL (they would start another header line)");
                else if (auto why = secret_value_reason(it.key(), v); !why.empty())
                    // Stored in every run's configuration snapshot otherwise.
                    ck.error(hp, why + ", and keys never go into a configuration file: put the key in an environment "
                                       "variable named in \"api_key_env\" and set \"key_header\": \"" + it.key() +
                                       "\" to send it in this header");
                else p.headers[it.key()] = v;
            }
    }
}

// A file the configuration names, from its own folder unless the user allowed otherwise. When
// it is refused for lying outside, `outside` names the file it resolves to.
Result<std::string> read_named_file(const std::string& name, const std::string& base_dir, const LoadOptions& options,
                                    std::string& outside) {
    namespace fs = std::filesystem;
    if (name.find('\0') != std::string::npos) return Error{"the file name contains a NUL character"};
    fs::path p(name);
    if (p.is_relative()) p = fs::path(base_dir) / p;
    {
        // The system's own trees are never a template, whatever the user allowed: /proc/self/environ
        // holds every key of the environment, /dev/zero never ends, /sys describes the machine.
        // Checked as written and after links and "..".
        std::error_code ec;
        const fs::path abs = fs::absolute(p, ec).lexically_normal();
        const fs::path real = fs::weakly_canonical(abs, ec);
        for (const fs::path& at : {abs, real})
            for (const char* root : {"/proc", "/sys", "/dev"})
                if (const fs::path rel = at.lexically_relative(root); !at.empty() && !rel.empty() && *rel.begin() != "..") {
                    outside.clear();
                    return Error{"\"" + name + "\" is under " + root + (at == real && real != abs ? " (after links)" : "") +
                                 "; a template must be an ordinary file, and files under /proc, /sys and /dev are never "
                                 "read, even with --allow-outside-files"};
                }
    }
    if (!options.allow_outside_files) {
        // Hidden files and folders (.aws/credentials, .ssh/…, .env) are not templates: a
        // configuration saved in a home folder must not be able to name them.
        for (const auto& part : fs::path(name))
            if (const std::string s = part.string(); s.size() > 1 && s[0] == '.' && s != "..") {
                outside = p.string();
                return Error{"\"" + name + "\" names a hidden file or folder (" + s +
                             "); a configuration reads only ordinary files from its own folder (to allow this one, run "
                             "with --allow-outside-files, or confirm in the workbench)"};
            }
        std::error_code ec1, ec2, ec3;
        // Symbolic links and ".." are resolved first: a link in the folder to /proc/self/environ is outside.
        const fs::path root = fs::weakly_canonical(fs::absolute(base_dir, ec1), ec2);
        const fs::path real = fs::weakly_canonical(fs::absolute(p, ec1), ec3);
        const fs::path rel = real.lexically_relative(root);
        if (ec1 || ec2 || ec3 || rel.empty() || *rel.begin() == "..") {
            outside = real.empty() ? p.string() : real.string();
            return Error{"\"" + p.string() + "\" is outside the configuration's folder " + root.string() +
                         "; a configuration reads files from its own folder only (to allow this one, run with "
                         "--allow-outside-files, or confirm in the workbench)"};
        }
    }
    return files::read_regular_file(p.string(), files::kMaxTemplateBytes);
}

void read_agent(Checker& ck, const json& aj, const std::string& ptr, const Config& c, Agent& a) {
    if (!aj.is_object()) {
        ck.error(ptr, "an agent must be an object");
        return;
    }
    ck.known_keys(aj, ptr, {"provider", "model", "system", "temperature", "top_p", "max_tokens", "seed", "top_logprobs",
                            "label"});
    if (auto p = ck.str(aj, ptr, "provider", true, true)) {
        if (!c.provider(*p)) {
            std::string known;
            for (const auto& [n, _] : c.providers) known += (known.empty() ? "" : ", ") + n;
            ck.error(ptr + "/provider", "unknown provider \"" + *p + "\"" +
                                            (known.empty() ? std::string(" (no providers are defined)")
                                                           : " (defined: " + known + ")"));
        }
        a.provider = *p;
    }
    if (auto m = ck.str(aj, ptr, "model", true, true)) a.model = *m;
    if (auto s = ck.str(aj, ptr, "system", false)) a.system = *s;
    if (auto v = ck.num(aj, ptr, "temperature", 0, 2)) a.params.temperature = *v;
    if (auto v = ck.num(aj, ptr, "top_p", 0, 1)) a.params.top_p = *v;
    if (auto v = ck.num(aj, ptr, "max_tokens", kMinMaxTokens, kMaxMaxTokens, true)) a.params.max_tokens = long(*v);
    if (auto v = ck.num(aj, ptr, "seed", -9.2e18, 9.2e18, true)) a.params.seed = aj["seed"].get<std::int64_t>();
    if (auto v = ck.num(aj, ptr, "top_logprobs", 0, 20, true)) a.params.top_logprobs = int(*v);
}

// A layer's quorum and deadline: only on a layer whose answers another layer reads.
void read_layer_limits(Checker& ck, const json& layer, const std::string& lp, bool last, std::size_t agents, Layer& L) {
    if (last) {
        for (const char* key : {"quorum", "deadline_ms"})
            if (layer.contains(key))
                ck.error(lp + "/" + key, std::string(key) + " is for layers whose answers another layer reads; the last "
                                                            "layer (the aggregator) has nothing to wait for");
        return;
    }
    if (auto v = ck.num(layer, lp, "quorum", 1, 10'000, true)) {
        if (agents > 0 && *v > static_cast<double>(agents))
            ck.error(lp + "/quorum", "quorum " + std::to_string(long(*v)) + " is more than the layer's " +
                                         std::to_string(agents) + (agents == 1 ? " agent" : " agents"));
        else L.quorum = int(*v);
    }
    if (auto v = ck.num(layer, lp, "deadline_ms", 1, 86'400'000, true)) L.deadline_ms = long(*v);
}

void read_pipelining(Checker& ck, const json& j, Pipelining& p) {
    auto it = j.find("pipelining");
    if (it == j.end() || it->is_null()) return;
    if (!it->is_object()) {
        ck.error("/pipelining", std::string("must be an object, not ") + it->type_name());
        return;
    }
    ck.known_keys(*it, "/pipelining", {"mode", "chunk_tokens", "continuation"});
    if (auto m = ck.str(*it, "/pipelining", "mode", false)) {
        if (*m == "barrier") p.mode = Pipelining::Mode::Barrier;
        else if (*m == "staircase") p.mode = Pipelining::Mode::Staircase;
        else ck.error("/pipelining/mode", "unknown mode \"" + *m + "\" (use \"barrier\" or \"staircase\")");
    }
    if (auto v = ck.num(*it, "/pipelining", "chunk_tokens", 1, 100'000, true)) p.chunk_tokens = int(*v);
    if (auto c = ck.str(*it, "/pipelining", "continuation", false)) {
        if (*c == "instruction") p.continuation = Pipelining::Continuation::Instruction;
        else if (*c == "assistant_prefix") p.continuation = Pipelining::Continuation::AssistantPrefix;
        else if (*c == "continue_final_message") p.continuation = Pipelining::Continuation::ContinueFinalMessage;
        else
            ck.error("/pipelining/continuation", "unknown continuation \"" + *c +
                                                     "\" (use \"instruction\", \"assistant_prefix\" or "
                                                     "\"continue_final_message\")");
    }
}

// Agents of every layer that is an object with an array of agents (the rest is reported
// layer by layer), and the most in one layer: counted before any is read, so a huge file is
// refused at once (a layer past its own limit is reported as such, without reading its agents).
std::size_t count_agents(const json& layers) {
    std::size_t n = 0;
    for (const auto& layer : layers)
        if (layer.is_object())
            if (auto aj = layer.find("agents"); aj != layer.end() && aj->is_array()) n += aj->size();
    return n;
}

std::size_t widest_layer(const json& layers) {
    std::size_t n = 0;
    for (const auto& layer : layers)
        if (layer.is_object())
            if (auto aj = layer.find("agents"); aj != layer.end() && aj->is_array()) n = std::max(n, aj->size());
    return n;
}

// What a staircase costs, said when it is a lot; and a staircase with nothing to do.
void warn_about_staircase(Checker& ck, const json& j, const Config& c) {
    if (c.pipelining.mode != Pipelining::Mode::Staircase || c.layers.size() < 2) return;
    const bool selects = c.aggregation.mode == Aggregation::Mode::Select;
    if (selects && c.layers.size() == 2) {
        ck.warning("/pipelining/mode", "staircase streaming has no effect here: the only layer after the first is the "
                                       "selecting aggregator (\"aggregation\": {\"mode\": \"select\"}), which names one "
                                       "answer and so waits for every answer to be complete");
        return;
    }
    // An agent takes a step each time its references have grown by chunk_tokens: about the
    // longest reference's max_tokens / chunk_tokens steps, each re-sending every reference.
    const long chunk = c.pipelining.chunk_tokens;
    constexpr long kAssumed = 512; // max_tokens not set: the provider's default, unknown here
    long steps = 0, longest = 0;
    std::string where;
    bool assumed = false;
    const std::size_t stepping_layers = selects ? c.layers.size() - 1 : c.layers.size();
    for (std::size_t li = 1; li < stepping_layers; ++li) {
        const auto& prev = c.layers[li - 1].agents;
        for (std::size_t ai = 0; ai < prev.size(); ++ai) {
            const long t = prev[ai].params.max_tokens.value_or(kAssumed);
            const long n = (t + chunk - 1) / chunk;
            if (n <= steps) continue;
            steps = n;
            longest = t;
            assumed = !prev[ai].params.max_tokens;
            where = "/layers/" + std::to_string(li - 1) + "/agents/" + std::to_string(ai) + "/max_tokens";
        }
    }
    if (steps <= kCostlySteps) return;
    const long better = (longest + 15) / 16; // about 16 steps
    const bool given = j["pipelining"].contains("chunk_tokens");
    ck.warning(given ? "/pipelining/chunk_tokens" : "/pipelining",
               "costly: with chunk_tokens " + std::to_string(chunk) + " each agent after the first layer takes about " +
                   std::to_string(steps) + " steps (its references run to " + std::to_string(longest) + " tokens: " + where +
                   (assumed ? " is not set, " + std::to_string(kAssumed) + " assumed" : std::string()) +
                   "), and each step re-sends every reference, so those agents' prompt tokens are about " +
                   std::to_string(steps) + "× a barrier run's; chunk_tokens " + std::to_string(better) +
                   " would make it about 16×");
}

} // namespace

LoadResult load_config_text(const std::string& text, const std::string& label, const std::string& base_dir,
                            const LoadOptions& options) {
    LoadResult r;
    if (auto at = too_deep_at(text); at != std::string_view::npos) {
        Issue i;
        i.file = label;
        line_column(text, at, i.line, i.column);
        i.message = "values nested more than " + std::to_string(kMaxJsonDepth) +
                    " levels deep; a configuration needs only a few levels";
        r.issues.push_back(std::move(i));
        return r;
    }
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error& e) {
        Issue i;
        i.file = label;
        // nlohmann reports the byte after the offending token; point at the token's start.
        std::size_t at = e.byte > 0 ? std::min<std::size_t>(e.byte - 1, text.empty() ? 0 : text.size() - 1) : 0;
        if (at < text.size() && text[at] == '"' && at > 0) {
            std::size_t b = at - 1;
            while (b > 0 && !(text[b] == '"' && text[b - 1] != '\\')) --b;
            at = b;
        } else {
            while (at > 0 && (std::isalnum(static_cast<unsigned char>(text[at - 1])) || text[at - 1] == '.' ||
                              text[at - 1] == '-' || text[at - 1] == '+') &&
                   std::isalnum(static_cast<unsigned char>(text[at])))
                --at;
        }
        line_column(text, at, i.line, i.column);
        std::string what = e.what();
        // nlohmann's message: "[json.exception.parse_error.101] parse error at line 3, column 5: ..."
        if (auto c = what.find(": "); c != std::string::npos) what = what.substr(c + 2);
        i.message = "malformed JSON: " + what;
        r.issues.push_back(std::move(i));
        return r;
    } catch (const json::exception& e) {
        // Not a syntax error but a value JSON can hold and we cannot (a number past double's
        // range: "[json.exception.out_of_range.406] number overflow parsing '7E7777777'").
        Issue i;
        i.file = label;
        i.message = json_value_error(text, e.what(), i.line, i.column);
        r.issues.push_back(std::move(i));
        return r;
    }
    Checker ck(text, label);
    Config c;
    if (!j.is_object()) {
        ck.error("", "a configuration must be a JSON object");
        r.issues = std::move(ck.issues);
        return r;
    }
    ck.known_keys(j, "", {"schema", "name", "description", "providers", "layers", "aggregation",
                          "on_agent_failure", "pipelining"});
    refuse_keys_anywhere(ck, j, "");
    if (auto s = ck.str(j, "", "schema", true)) {
        if (*s != kSchema)
            ck.error("/schema", "unsupported schema \"" + *s + "\" (this version reads \"" + kSchema + "\")");
    }
    if (auto n = ck.str(j, "", "name", true, true)) c.name = *n;
    if (auto d = ck.str(j, "", "description", false)) c.description = *d;

    auto pj = j.find("providers");
    if (pj == j.end()) ck.error("/providers", "required");
    else if (!pj->is_object() || pj->empty()) ck.error("/providers", "must be an object with at least one provider");
    else
        for (auto it = pj->begin(); it != pj->end(); ++it) {
            Provider p;
            p.name = it.key();
            read_provider(ck, *it, "/providers/" + key_in_pointer(it.key()), p);
            c.providers[it.key()] = std::move(p);
        }

    auto lj = j.find("layers");
    if (lj == j.end()) ck.error("/layers", "required");
    else if (!lj->is_array() || lj->empty()) ck.error("/layers", "must be a non-empty array of layers");
    else if (lj->size() > kMaxLayers)
        ck.error("/layers", std::to_string(lj->size()) + " layers; a configuration holds at most " +
                                std::to_string(kMaxLayers) + " (see the limits in the README)");
    else if (auto n = count_agents(*lj); n > kMaxAgents && widest_layer(*lj) <= kMaxAgentsPerLayer)
        ck.error("/layers", std::to_string(n) + " agents in all; a configuration holds at most " + std::to_string(kMaxAgents) +
                                " (see the limits in the README)");
    else
        for (std::size_t li = 0; li < lj->size(); ++li) {
            const json& layer = (*lj)[li];
            std::string lp = "/layers/" + std::to_string(li);
            Layer L;
            if (!layer.is_object()) {
                ck.error(lp, "a layer must be an object with \"agents\"");
                continue;
            }
            ck.known_keys(layer, lp, {"agents", "label", "quorum", "deadline_ms"});
            auto aj = layer.find("agents");
            if (aj == layer.end()) ck.error(lp + "/agents", "required");
            else if (!aj->is_array()) ck.error(lp + "/agents", "must be an array of agents");
            else if (aj->empty()) ck.error(lp + "/agents", "empty layer: a layer needs at least one agent");
            else if (aj->size() > kMaxAgentsPerLayer)
                ck.error(lp + "/agents", std::to_string(aj->size()) + " agents in one layer; a layer holds at most " +
                                             std::to_string(kMaxAgentsPerLayer) + " (see the limits in the README)");
            else {
                for (std::size_t ai = 0; ai < aj->size(); ++ai) {
                    Agent a;
                    read_agent(ck, (*aj)[ai], lp + "/agents/" + std::to_string(ai), c, a);
                    L.agents.push_back(std::move(a));
                }
                if (li + 1 == lj->size() && aj->size() > 1)
                    ck.error(lp + "/agents", "the last layer must hold exactly one agent, the aggregator (it has " +
                                                 std::to_string(aj->size()) + ")");
            }
            read_layer_limits(ck, layer, lp, li + 1 == lj->size(), aj != layer.end() && aj->is_array() ? aj->size() : 0, L);
            c.layers.push_back(std::move(L));
        }

    c.aggregation.template_text = default_aggregation_template();
    if (auto ag = j.find("aggregation"); ag != j.end()) {
        if (!ag->is_object()) ck.error("/aggregation", "must be an object");
        else {
            ck.known_keys(*ag, "/aggregation", {"template", "placement", "text", "mode"});
            if (auto m = ck.str(*ag, "/aggregation", "mode", false)) {
                if (*m == "synthesize") c.aggregation.mode = Aggregation::Mode::Synthesize;
                else if (*m == "select") c.aggregation.mode = Aggregation::Mode::Select;
                else ck.error("/aggregation/mode", "unknown mode \"" + *m + "\" (use \"synthesize\" or \"select\")");
            }
            if (auto pl = ck.str(*ag, "/aggregation", "placement", false)) {
                if (*pl == "system") c.aggregation.placement = Placement::System;
                else if (*pl == "user") c.aggregation.placement = Placement::User;
                else ck.error("/aggregation/placement", "unknown placement \"" + *pl + "\" (use \"system\" or \"user\")");
            }
            if (auto t = ck.str(*ag, "/aggregation", "text", false)) {
                c.aggregation.template_name = "inline";
                c.aggregation.template_text = *t;
            } else if (auto tn = ck.str(*ag, "/aggregation", "template", false, true)) {
                c.aggregation.template_name = *tn;
                if (*tn != "default") {
                    std::string outside;
                    auto body = read_named_file(*tn, base_dir, options, outside);
                    if (!outside.empty()) r.outside_files.push_back(outside);
                    if (!body)
                        ck.error("/aggregation/template", "cannot read the template file: " + body.error() +
                                                              " (use \"default\" or a file next to the configuration)");
                    else {
                        if (!body->empty() && body->back() == '\n') body->pop_back();
                        c.aggregation.template_text = std::move(*body);
                    }
                }
            }
        }
    }
    read_pipelining(ck, j, c.pipelining);
    if (!ck.has_errors()) warn_about_staircase(ck, j, c);
    if (auto f = ck.str(j, "", "on_agent_failure", false)) {
        if (*f == "drop") c.on_agent_failure = FailurePolicy::Drop;
        else if (*f == "abort") c.on_agent_failure = FailurePolicy::Abort;
        else ck.error("/on_agent_failure", "unknown policy \"" + *f + "\" (use \"drop\" or \"abort\")");
    }
    if (!ck.has_errors()) r.config = std::move(c);
    r.issues = std::move(ck.issues);
    return r;
}

LoadResult load_config_file(const std::string& path, const LoadOptions& options) {
    auto text = files::read_regular_file(path, files::kMaxConfigBytes);
    if (!text) {
        LoadResult r;
        Issue i;
        i.file = path;
        i.message = text.error();
        // The message is "<path>: <why>"; the issue names the file already.
        if (i.message.rfind(path + ": ", 0) == 0) i.message.erase(0, path.size() + 2);
        r.issues.push_back(i);
        return r;
    }
    auto dir = std::filesystem::path(path).parent_path().string();
    auto r = load_config_text(*text, path, dir.empty() ? "." : dir, options);
    if (r.config) r.config->source_path = path;
    return r;
}

json to_json(const Config& c) {
    json j;
    j["schema"] = kSchema;
    j["name"] = c.name;
    if (!c.description.empty()) j["description"] = c.description;
    json provs = json::object();
    for (const auto& [name, p] : c.providers) {
        json pj;
        if (p.type == ProviderType::Demo) {
            pj["type"] = "demo";
            pj["tokens_per_second"] = p.demo_tokens_per_second;
            pj["first_token_ms"] = p.demo_first_token_ms;
        } else {
            pj["base_url"] = p.base_url;
            if (!p.api_key_env.empty()) pj["api_key_env"] = p.api_key_env;
            const Provider d;
            if (p.connect_timeout_ms != d.connect_timeout_ms) pj["connect_timeout_ms"] = p.connect_timeout_ms;
            if (p.first_token_timeout_ms != d.first_token_timeout_ms) pj["first_token_timeout_ms"] = p.first_token_timeout_ms;
            if (p.idle_timeout_ms != d.idle_timeout_ms) pj["idle_timeout_ms"] = p.idle_timeout_ms;
            if (p.call_timeout_ms != d.call_timeout_ms) pj["call_timeout_ms"] = p.call_timeout_ms;
            if (p.max_retries != d.max_retries) pj["max_retries"] = p.max_retries;
            if (p.retry_base_ms != d.retry_base_ms) pj["retry_base_ms"] = p.retry_base_ms;
            if (p.retry_max_ms != d.retry_max_ms) pj["retry_max_ms"] = p.retry_max_ms;
            if (p.max_answer_bytes != d.max_answer_bytes) pj["max_answer_bytes"] = p.max_answer_bytes;
            if (!p.headers.empty()) pj["headers"] = p.headers;
            if (!p.key_header.empty()) pj["key_header"] = p.key_header;
            if (!p.tls_verify) pj["tls_verify"] = false;
            if (!p.ca_file.empty()) pj["ca_file"] = p.ca_file;
        }
        pj["max_concurrency"] = p.max_concurrency;
        if (!p.models.empty()) {
            json ms = json::object();
            for (const auto& [id, o] : p.models) {
                json oj = json::object();
                if (o.input_usd_per_mtok) oj["input_usd_per_mtok"] = *o.input_usd_per_mtok;
                if (o.output_usd_per_mtok) oj["output_usd_per_mtok"] = *o.output_usd_per_mtok;
                if (o.active_params_b) oj["active_params_b"] = *o.active_params_b;
                ms[id] = oj;
            }
            pj["models"] = ms;
        }
        provs[name] = pj;
    }
    j["providers"] = provs;
    json layers = json::array();
    for (const auto& l : c.layers) {
        json agents = json::array();
        for (const auto& a : l.agents) {
            json aj{{"provider", a.provider}, {"model", a.model}};
            if (a.system) aj["system"] = *a.system;
            if (a.params.temperature) aj["temperature"] = *a.params.temperature;
            if (a.params.top_p) aj["top_p"] = *a.params.top_p;
            if (a.params.max_tokens) aj["max_tokens"] = *a.params.max_tokens;
            if (a.params.seed) aj["seed"] = *a.params.seed;
            if (a.params.top_logprobs) aj["top_logprobs"] = *a.params.top_logprobs;
            agents.push_back(aj);
        }
        json lj{{"agents", agents}};
        if (l.quorum) lj["quorum"] = *l.quorum;
        if (l.deadline_ms) lj["deadline_ms"] = *l.deadline_ms;
        layers.push_back(std::move(lj));
    }
    j["layers"] = layers;
    json ag{{"placement", to_string(c.aggregation.placement)}};
    if (c.aggregation.mode == Aggregation::Mode::Select) ag["mode"] = "select";
    if (c.aggregation.template_name == "inline") ag["text"] = c.aggregation.template_text;
    else ag["template"] = c.aggregation.template_name;
    j["aggregation"] = ag;
    j["on_agent_failure"] = to_string(c.on_agent_failure);
    // Written only when not the default, so that barrier configurations read as before.
    if (!(c.pipelining == Pipelining{}))
        j["pipelining"] = {{"mode", to_string(c.pipelining.mode)},
                           {"chunk_tokens", c.pipelining.chunk_tokens},
                           {"continuation", to_string(c.pipelining.continuation)}};
    return j;
}

} // namespace moa::config
