// SPDX-License-Identifier: MIT
#include "settings/provider_status.h"

#include "common/plural.h"

#include <QApplication>
#include <QPointer>
#include <QTimer>
#include <QUrl>

#include <algorithm>
#include <thread>

#include "config/key_uses.h"
#include "model/config_document.h"
#include "net/transport.h"
#include "providers/model_list.h"
#include "settings/key_store.h"

namespace moa::ui {

ProviderStatus::ProviderStatus(ConfigDocument* doc, KeyStore* keys, QWidget* parent)
    : QLabel(parent)
    , doc_(doc)
    , keys_(keys) {
    setObjectName("providers_status");
    setAccessibleName(tr("Providers reachable"));
    setToolTip(tr("Whether each provider of this configuration answers GET /models (checked when "
                  "the providers change)"));
    timer_ = new QTimer(this);
    timer_->setSingleShot(true);
    timer_->setInterval(600); // after edits settle
    connect(timer_, &QTimer::timeout, this, &ProviderStatus::check);
    connect(doc_, &ConfigDocument::changed, timer_, qOverload<>(&QTimer::start));
    connect(keys_, &KeyStore::changed, this, [this] {
        signature_.clear();
        timer_->start();
    });
}

void ProviderStatus::check() {
    // One check per distinct set of providers (name, URL, TLS settings, whether a key is there).
    QString sig;
    for (const auto& [name, p] : doc_->config().providers)
        sig += QString::fromStdString(name + "|" + p.base_url + "|" + p.ca_file + "|") +
               QString::number(p.tls_verify) + QString::number(int(p.type)) +
               QString::number(!keys_->keyFor(p).empty()) + ";";
    if (sig == signature_) return;
    signature_ = sig;
    unreachable_.clear(); // not known until this check answers
    problems_.clear();
    const int gen = ++generation_;
    struct Item {
        config::Provider p;
        std::string key;
        bool key_withheld = false; // an environment key not yet used with this server
    };
    std::vector<Item> items;
    QStringList parts;
    // An environment key is sent only to a server it has gone to from this machine before: a
    // shared *.moa.json may name OPENAI_API_KEY beside its own base_url, and merely opening it
    // must not hand the key over. Such a provider is checked without its key (reachability
    // only); the first run says so and remembers the pair (KnownKeyUses). Keychain keys are
    // stored per base URL, so they only ever go where the user saved them for.
    const auto unfamiliar = config::KnownKeyUses().unfamiliar(doc_->config());
    for (const auto& [name, p] : doc_->config().providers) {
        if (p.type == config::ProviderType::Demo) continue;
        Item item{p, keys_->keyFor(p), false};
        const std::string& pname = name; // clang before 16 cannot capture a structured binding
        const bool fresh = std::any_of(unfamiliar.begin(), unfamiliar.end(), [&](const auto& u) { return u.provider == pname; });
        if (fresh && keys_->sourceFor(p) == KeyStore::Source::Environment) {
            item.key.clear();
            item.key_withheld = true;
        }
        items.push_back(std::move(item));
        parts << tr("%1 …").arg(QString::fromStdString(name));
    }
    const bool demo =
        std::any_of(doc_->config().providers.begin(), doc_->config().providers.end(),
                    [](const auto& kv) { return kv.second.type == config::ProviderType::Demo; });
    const QString demo_part = demo ? tr("demo ✓ (offline)") : QString();
    setText(tr("Providers: %1").arg((demo ? QStringList{demo_part} + parts : parts).join(" · ")));
    if (items.empty()) return;
    QPointer<ProviderStatus> self(this);
    // Off the GUI thread; short timeouts, so a dead host is reported within seconds.
    std::thread([self, gen, items, demo_part] {
        QStringList out;
        QStringList details;
        std::map<std::string, std::string> dead;
        std::map<std::string, Problem> problems;
        auto unreachable = [&](const config::Provider& p, const std::string& error) {
            dead[p.name] = error;
            const QUrl url(QString::fromStdString(p.base_url));
            Problem& pr = problems[p.name];
            pr.where = url.host().toStdString() + (url.port() > 0 ? ":" + std::to_string(url.port()) : std::string());
            pr.error = error;
            pr.checked = QDateTime::currentDateTime();
        };
        for (auto it : items) {
            it.p.connect_timeout_ms = std::min<long>(it.p.connect_timeout_ms, 4000);
            it.p.first_token_timeout_ms = std::min<long>(it.p.first_token_timeout_ms, 6000);
            const QString name = QString::fromStdString(it.p.name);
            if (it.key_withheld) {
                // Reachability without the key: any HTTP answer (even 401) means the server is there.
                auto r = providers::list_models(net::Transport::shared(), it.p, std::string());
                const bool answered = r || r.error().find("HTTP ") != std::string::npos;
                out << (answered ? QObject::tr("%1 ? key not sent yet").arg(name) : QObject::tr("%1 ✗").arg(name));
                details << (answered ? QObject::tr("%1: the server answers; $%2 has not been sent to it from this machine before, "
                                                   "so it was not sent to check (the first run sends it and says so)")
                                           .arg(name, QString::fromStdString(it.p.api_key_env))
                                     : QString::fromStdString(r.error()));
                if (!answered) unreachable(it.p, r.error());
                continue;
            }
            if (it.key.empty() && !it.p.api_key_env.empty()) {
                out << QObject::tr("%1 ✗ no key").arg(name);
                details << QObject::tr("%1: no key in the keychain and %2 is not set")
                               .arg(name, QString::fromStdString(it.p.api_key_env));
                dead[it.p.name] = "no key: " + it.p.api_key_env + " is not set";
                problems[it.p.name] = Problem{true, it.p.api_key_env, {}, {}, QDateTime::currentDateTime()};
                continue;
            }
            auto r = providers::list_models(net::Transport::shared(), it.p, it.key);
            out << (r ? QObject::tr("%1 ✓").arg(name) : QObject::tr("%1 ✗").arg(name));
            details << (r ? QObject::tr("%1: reachable, %2").arg(name, count_text(static_cast<qint64>(r->size()), QObject::tr("model"), QObject::tr("models")))
                          : QString::fromStdString(r.error()));
            if (!r) unreachable(it.p, r.error());
        }
        QMetaObject::invokeMethod(
            qApp,
            [self, gen, out, details, demo_part, dead, problems] {
                if (!self || gen != self->generation_) return;
                self->unreachable_ = dead;
                self->problems_ = problems;
                self->setText(QObject::tr("Providers: %1")
                                  .arg((demo_part.isEmpty() ? out : QStringList{demo_part} + out)
                                           .join(" · ")));
                self->setToolTip(details.join("\n"));
            },
            Qt::QueuedConnection);
    }).detach();
}

} // namespace moa::ui
