// SPDX-License-Identifier: MIT
#include "test_server.h"

#include <curl/curl.h>

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
