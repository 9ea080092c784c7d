// SPDX-License-Identifier: MIT
#include "settings/key_store.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QTimer>

#include <qt6keychain/keychain.h>

#include <atomic>

#include "engine/engine.h"

namespace moa::ui {

QString KeyStore::entryFor(const config::Provider& p) { return QString::fromStdString(p.base_url); }

KeyStore::KeyStore(QString service, QObject* parent) : QObject(parent), service_(std::move(service)) {}

namespace {
std::atomic<int> in_flight{0};

// A job with no parent (it outlives the key store and its window), counted until it finishes;
// its result reaches the key store only while that still exists (the connection's context).
template <typename Job>
Job* detached_job(const QString& service) {
    auto* job = new Job(service, nullptr);
    job->setAutoDelete(true);
    ++in_flight;
    QObject::connect(job, &QKeychain::Job::finished, [] { --in_flight; });
    return job;
}

QString explain(QKeychain::Error e, const QString& detail) {
    switch (e) {
    case QKeychain::NoBackendAvailable:
        return QObject::tr("no keyring service is running (%1); keys come from environment variables").arg(detail);
    case QKeychain::AccessDeniedByUser:
    case QKeychain::AccessDenied:
        return QObject::tr("the keyring refused access (%1)").arg(detail);
    default:
        return QObject::tr("the keyring could not be used (%1); keys come from environment variables").arg(detail);
    }
}
} // namespace

void KeyStore::load(const QString& entry) {
    if (entry.isEmpty()) return;
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (asked_[entry]) return;
        asked_[entry] = true;
    }
    auto* job = detached_job<QKeychain::ReadPasswordJob>(service_);
    job->setKey(entry);
    connect(job, &QKeychain::Job::finished, this, [this, entry](QKeychain::Job* j) {
        auto* r = static_cast<QKeychain::ReadPasswordJob*>(j);
        if (r->error() == QKeychain::NoError) {
            remember(entry, r->textData());
        } else if (r->error() != QKeychain::EntryNotFound) {
            last_error_ = explain(r->error(), r->errorString());
            emit failed(entry, last_error_);
        } else {
            emit changed(entry);
        }
    });
    job->start();
}

void KeyStore::store(const QString& entry, const QString& key) {
    if (entry.isEmpty() || key.isEmpty()) return;
    auto* job = detached_job<QKeychain::WritePasswordJob>(service_);
    job->setKey(entry);
    job->setTextData(key);
    connect(job, &QKeychain::Job::finished, this, [this, entry, key](QKeychain::Job* j) {
        if (j->error() == QKeychain::NoError) {
            remember(entry, key);
        } else {
            last_error_ = explain(j->error(), j->errorString());
            emit failed(entry, last_error_);
        }
    });
    job->start();
}

void KeyStore::forget(const QString& entry) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        keys_.erase(entry);
    }
    auto* job = detached_job<QKeychain::DeletePasswordJob>(service_);
    job->setKey(entry);
    connect(job, &QKeychain::Job::finished, this, [this, entry](QKeychain::Job* j) {
        if (j->error() != QKeychain::NoError && j->error() != QKeychain::EntryNotFound) {
            last_error_ = explain(j->error(), j->errorString());
            emit failed(entry, last_error_);
        }
        emit changed(entry);
    });
    job->start();
}

void KeyStore::remember(const QString& entry, const QString& key) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        keys_[entry] = key.toStdString();
        asked_[entry] = true;
    }
    emit changed(entry);
}

std::string KeyStore::keyFor(const config::Provider& p) const {
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = keys_.find(entryFor(p));
        if (it != keys_.end() && !it->second.empty()) return it->second;
    }
    return engine::key_from_environment(p);
}

KeyStore::Source KeyStore::sourceFor(const config::Provider& p) const {
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = keys_.find(entryFor(p));
        if (it != keys_.end() && !it->second.empty()) return Source::Keychain;
    }
    return engine::key_from_environment(p).empty() ? Source::None : Source::Environment;
}

int KeyStore::jobsInFlight() { return in_flight.load(); }

bool KeyStore::finishPending(int ms) {
    QElapsedTimer clock;
    clock.start();
    while (in_flight.load() > 0 && clock.elapsed() < ms) {
        QEventLoop loop;
        QTimer::singleShot(10, &loop, &QEventLoop::quit);
        loop.exec();
    }
    return in_flight.load() == 0;
}

int KeyStore::keychainKeyLength(const QString& entry) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = keys_.find(entry);
    return it == keys_.end() ? -1 : static_cast<int>(QString::fromStdString(it->second).size());
}

} // namespace moa::ui
