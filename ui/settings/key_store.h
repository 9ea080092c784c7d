// SPDX-License-Identifier: MIT
#pragma once
// Provider API keys in the OS keychain (QtKeychain: Secret Service, KWallet), with environment
// variables as the fallback (and the only source for the CLI). Keychain reads and writes are
// asynchronous, so the GUI thread never waits on them; what they return is kept in memory, where
// a run (on the transport thread) finds it at once. A key lives only in the keychain and in this
// process's memory: never in a file, the database, a log or a message (messages give its length).
#include <QObject>
#include <QString>

#include <map>
#include <mutex>
#include <string>

#include "config/config.h"

namespace moa::ui {

class KeyStore : public QObject {
    Q_OBJECT
public:
    // Keychain entries are per service URL, so every configuration that uses a provider finds
    // its key, whatever the provider is called there.
    static QString entryFor(const config::Provider& p);

    explicit KeyStore(QString service = QStringLiteral("moa-workbench"), QObject* parent = nullptr);

    // Asynchronous; `changed` or `failed` follows. Entries already read are not read again.
    void load(const QString& entry);
    void store(const QString& entry, const QString& key);
    void forget(const QString& entry);

    // Any thread: the keychain's key when it has one, else the provider's environment variable.
    std::string keyFor(const config::Provider& p) const;
    // Where keyFor's key comes from, for the settings panel (never the key itself).
    enum class Source { None, Keychain, Environment };
    Source sourceFor(const config::Provider& p) const;
    int keychainKeyLength(const QString& entry) const; // -1 when there is none in memory

    // What a successful keychain read or write does (public for the tests of what uses it).
    void remember(const QString& entry, const QString& key);
    // The last keychain problem ("" when none): no keyring service, access denied, …
    QString lastError() const { return last_error_; }

    // Keychain jobs belong to no window: a key saved or forgotten just before the window closes
    // is still saved or forgotten. The application lets them finish (running its event loop,
    // at most `ms`) before it exits; true when none is left.
    static int jobsInFlight();
    static bool finishPending(int ms);

signals:
    void changed(const QString& entry);
    void failed(const QString& entry, const QString& message);

private:
    QString service_;
    mutable std::mutex mu_;
    std::map<QString, std::string> keys_;
    std::map<QString, bool> asked_;
    QString last_error_;
};

} // namespace moa::ui
