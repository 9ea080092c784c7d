// SPDX-License-Identifier: MIT
#include "model/autosave.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

#include "model/config_document.h"
#include "store/history.h"

namespace moa::ui {
using nlohmann::json;

Autosave::Autosave(ConfigDocument* doc, QString file, int delay_ms, QObject* parent)
    : QObject(parent), doc_(doc), file_(std::move(file)) {
    timer_.setSingleShot(true);
    timer_.setInterval(delay_ms);
    connect(&timer_, &QTimer::timeout, this, [this] {
        if (doc_->isDirty() && !held_) writeNow();
    });
    // (changed() comes while the undo stack is still moving; whether that left the document
    // dirty is decided when the timer fires.)
    connect(doc_, &ConfigDocument::changed, this, [this] { timer_.start(); });
    connect(doc_, &ConfigDocument::dirtyChanged, this, [this](bool dirty) {
        if (!dirty) {
            timer_.stop();
            if (!held_) clear(); // saved (or back to the saved state): nothing to recover
        }
    });
}

QString Autosave::defaultFile() {
    QFileInfo history(QString::fromStdString(store::History::default_path()));
    return history.absolutePath() + "/autosave.moa-recovery.json";
}

bool Autosave::writeNow(QString* error) {
    QDir().mkpath(QFileInfo(file_).absolutePath());
    json j{{"path", doc_->path().toStdString()},
           {"saved_at", QDateTime::currentDateTimeUtc().toString(Qt::ISODate).toStdString()},
           {"config", config::to_json(doc_->config())}};
    const std::string text = j.dump(2);
    QSaveFile f(file_);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Unbuffered) || f.write(text.data(), static_cast<qint64>(text.size())) < 0 || !f.commit()) {
        if (error) *error = file_ + ": " + f.errorString();
        return false;
    }
    return true;
}

std::optional<Autosave::Recovered> Autosave::pending() const {
    QFile f(file_);
    if (!f.open(QIODevice::ReadOnly)) return std::nullopt;
    json j = json::parse(f.readAll().toStdString(), nullptr, false);
    if (!j.is_object() || !j.contains("config")) return std::nullopt;
    const std::string path = j.value("path", "");
    const std::string dir = path.empty() ? "." : QFileInfo(QString::fromStdString(path)).absolutePath().toStdString();
    auto r = config::load_config_text(j["config"].dump(), file_.toStdString(), dir);
    if (!r.config) {
        // A recovered document may be invalid mid-edit; keep what parses by relaxing nothing:
        // an invalid autosave is still offered as text would be, but here we need a Config.
        return std::nullopt;
    }
    return Recovered{*r.config, QString::fromStdString(path), QString::fromStdString(j.value("saved_at", ""))};
}

void Autosave::clear() { QFile::remove(file_); }

void Autosave::setHeld(bool held) { held_ = held; }

} // namespace moa::ui
