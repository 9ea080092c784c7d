// SPDX-License-Identifier: MIT
#pragma once
// Starts tests/servers/openai_server.py (or another script) on 127.0.0.1 for one test case
// and stops it when destroyed.
#include <QByteArray>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QString>
#include <QTemporaryDir>
#include <functional>
#include <string>

class TestServer {
public:
    explicit TestServer(const QString& script = QStringLiteral(MOA_TEST_SERVERS "/openai_server.py"),
                        const QStringList& extra = {});
    ~TestServer();
    bool ok() const { return port_ > 0; }
    int port() const { return port_; }
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
    // Every chat request the server received, in order.
    QJsonArray requests() const;
    int chat_requests() const { return requests().size(); }
    // The chat requests for models ending in `model_suffix`, and how many of them carried
    // "Authorization: Bearer <key>".
    struct Bearer {
        int calls = 0, with_key = 0;
    };
    Bearer bearer(const QString& model_suffix, const QString& key) const;

private:
    QProcess proc_;
    int port_ = 0;
};

// Blocking GET of a URL on 127.0.0.1 (via libcurl), for test inspection.
QByteArray http_get(const std::string& url);

struct HttpReply {
    long status = 0;
    QByteArray body;
    bool aborted = false; // the client hung up on purpose (abort_after_ms)
};
// Blocking request via libcurl; with abort_after_ms the client hangs up once that much time has
// passed and some body has arrived (a client that disconnects mid-stream).
HttpReply http_request(const std::string& method, const std::string& url, const QByteArray& body = {},
                       const QStringList& headers = {}, long abort_after_ms = 0);

struct ProcessResult {
    int code = -1; // -1 when it crashed or timed out
    QByteArray out, err;
};
// Runs the `moa` binary to the end (stdin closed after `stdin_data`).
// Writes `content` to `name` in `dir` and returns its path.
QString write_file(const QTemporaryDir& dir, const QString& name, const QByteArray& content);

ProcessResult run_moa(const QStringList& args, const QByteArray& stdin_data = {}, int timeout_ms = 60000,
                      const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment());

// Lets a started process run for up to `ms`, then kills it with SIGKILL if it is still running
// (a crash at a random moment). True when it was killed.
bool kill_after(QProcess& p, int ms);

// Runs `fn` while this process may write no file past `bytes` (RLIMIT_FSIZE: such writes fail
// with EFBIG, as they would on a full disk).
void with_full_disk(std::size_t bytes, const std::function<void()>& fn);
// Runs `fn` with `dir` read-only; as root (whom permissions do not stop) under the effective
// user "nobody". The folder is writable again afterwards.
void with_read_only_folder(const QString& dir, const std::function<void()>& fn);

// Runs `moa serve` with the given arguments and learns its port from its first line.
class ServeProcess {
public:
    explicit ServeProcess(const QStringList& args, const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment());
    ~ServeProcess();
    bool ok() const { return port_ > 0; }
    std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
    QByteArray output() { return out_ += proc_.readAll(); }
    qint64 pid() const { return proc_.processId(); }

private:
    QProcess proc_;
    QByteArray out_;
    int port_ = 0;
};
