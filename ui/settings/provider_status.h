// SPDX-License-Identifier: MIT
#pragma once
// The status bar's "Providers: demo ✓ · local ✓ · other ✗": whether each provider of the open
// configuration answers GET /models, checked off the GUI thread when the providers (or their
// keys) change. The window asks it which providers it found unreachable before a run.
#include <QDateTime>
#include <QLabel>

#include <map>
#include <string>

class QTimer;

namespace moa::ui {

class ConfigDocument;
class KeyStore;

class ProviderStatus : public QLabel {
    Q_OBJECT
public:
    ProviderStatus(ConfigDocument* doc, KeyStore* keys, QWidget* parent = nullptr);
    // Provider name -> why, from the last check that answered (empty while one is going on).
    const std::map<std::string, std::string>& unreachable() const { return unreachable_; }
    // What the last check knows of each provider that will not work, said exactly: a key that is
    // not set is not an unreachable server.
    struct Problem {
        bool no_key = false;  // no key in the keychain, and api_key_env is not set
        std::string key_env;  // the variable it names
        std::string where;    // host:port asked (unreachable)
        std::string error;    // what the request said (unreachable)
        QDateTime checked;    // when the check answered
    };
    const std::map<std::string, Problem>& problems() const { return problems_; }

private:
    void check();
    ConfigDocument* doc_;
    KeyStore* keys_;
    QTimer* timer_;
    QString signature_;
    int generation_ = 0;
    std::map<std::string, std::string> unreachable_;
    std::map<std::string, Problem> problems_;
};

} // namespace moa::ui
