// SPDX-License-Identifier: MIT
#include "test_server.h"

#include <curl/curl.h>

#include <chrono>
#include <csignal>
#include <sys/resource.h>
#include <unistd.h>

#include <QFile>

TestServer::TestServer(const QString& script, const QStringList& extra) {
    proc_.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    proc_.start(QStringLiteral("python3"), QStringList{script} + extra);
    if (!proc_.waitForStarted(10000)) return;
    QByteArray line;
    while (!line.contains('\n')) {
        if (!proc_.waitForReadyRead(10000)) return;
        line += proc_.readAllStandardOutput();
    }
    auto parts = QString::fromUtf8(line).trimmed().split(' ');
    if (parts.size() == 2 && parts[0] == QLatin1String("PORT")) port_ = parts[1].toInt();
}

TestServer::~TestServer() {
    proc_.closeWriteChannel();
    if (!proc_.waitForFinished(3000)) {
        proc_.kill();
        proc_.waitForFinished(3000);
    }
}

static size_t collect(char* d, size_t s, size_t n, void* u) {
    static_cast<QByteArray*>(u)->append(d, static_cast<qsizetype>(s * n));
    return s * n;
}

QByteArray http_get(const std::string& url) {
    QByteArray out;
    CURL* c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_perform(c);
    curl_easy_cleanup(c);
    return out;
}

QJsonArray TestServer::requests() const {
    return QJsonDocument::fromJson(http_get("http://127.0.0.1:" + std::to_string(port_) + "/_requests")).array();
}

namespace {
struct Transfer {
    HttpReply reply;
    long abort_after_ms;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
};
size_t collect_reply(char* d, size_t s, size_t n, void* u) {
    auto* t = static_cast<Transfer*>(u);
    t->reply.body.append(d, static_cast<qsizetype>(s * n));
    return s * n;
}
int progress(void* u, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* t = static_cast<Transfer*>(u);
    if (t->abort_after_ms > 0 && !t->reply.body.isEmpty() &&
        std::chrono::steady_clock::now() - t->start > std::chrono::milliseconds(t->abort_after_ms)) {
        t->reply.aborted = true;
        return 1;
    }
    return 0;
}
} // namespace

HttpReply http_request(const std::string& method, const std::string& url, const QByteArray& body,
                       const QStringList& headers, long abort_after_ms) {
    Transfer t{{}, abort_after_ms};
    CURL* c = curl_easy_init();
    curl_slist* h = nullptr;
    for (const auto& x : headers) h = curl_slist_append(h, x.toUtf8().constData());
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (method == "POST") {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.constData());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &collect_reply);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &t.reply.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return t.reply;
}

ServeProcess::ServeProcess(const QStringList& args, const QProcessEnvironment& env) {
    proc_.setProcessEnvironment(env);
    proc_.setProcessChannelMode(QProcess::MergedChannels);
    proc_.start(QStringLiteral(MOA_BINARY), QStringList{"serve"} + args);
    if (!proc_.waitForStarted(10000)) return;
    while (!out_.contains('\n')) {
        if (!proc_.waitForReadyRead(10000)) return;
        out_ += proc_.readAll();
    }
    auto i = out_.indexOf("127.0.0.1:");
    if (i >= 0) port_ = out_.mid(i + 10).split('/').first().toInt();
}

ServeProcess::~ServeProcess() {
    proc_.terminate();
    if (!proc_.waitForFinished(5000)) {
        proc_.kill();
        proc_.waitForFinished();
    }
}

ProcessResult run_moa(const QStringList& args, const QByteArray& stdin_data, int timeout_ms, const QProcessEnvironment& env) {
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(MOA_BINARY), args);
    p.waitForStarted();
    if (!stdin_data.isEmpty()) p.write(stdin_data);
    p.closeWriteChannel();
    ProcessResult r;
    if (!p.waitForFinished(timeout_ms)) {
        p.kill();
        p.waitForFinished();
        return r;
    }
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

TestServer::Bearer TestServer::bearer(const QString& model_suffix, const QString& key) const {
    Bearer b;
    for (const auto& r : requests())
        if (r.toObject()["model"].toString().endsWith(model_suffix)) {
            ++b.calls;
            b.with_key += r.toObject()["authorization"].toString() == "Bearer " + key;
        }
    return b;
}

bool kill_after(QProcess& p, int ms) {
    if (p.waitForFinished(ms)) return false;
    ::kill(static_cast<pid_t>(p.processId()), SIGKILL);
    p.waitForFinished(10000);
    return true;
}

void with_full_disk(std::size_t bytes, const std::function<void()>& fn) {
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit old{};
    getrlimit(RLIMIT_FSIZE, &old);
    rlimit small = old;
    small.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &small);
    fn();
    setrlimit(RLIMIT_FSIZE, &old);
}

void with_read_only_folder(const QString& dir, const std::function<void()>& fn) {
    QFile::setPermissions(dir, QFileDevice::ReadOwner | QFileDevice::ExeOwner | QFileDevice::ReadGroup | QFileDevice::ExeGroup |
                                   QFileDevice::ReadOther | QFileDevice::ExeOther);
    const bool root = geteuid() == 0;
    if (root && seteuid(65534) != 0) return;
    fn();
    if (root && seteuid(0) != 0) std::abort(); // cannot happen: the saved set-user-ID is root
    QFile::setPermissions(dir, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
}

QString write_file(const QTemporaryDir& dir, const QString& name, const QByteArray& content) {
    QString path = dir.filePath(name);
    QFile f(path);
    f.open(QIODevice::WriteOnly);
    f.write(content);
    return path;
}
