// SPDX-License-Identifier: MIT
#include "model/inspector.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QSpinBox>
#include <QVBoxLayout>

#include "common/keyboard.h"
#include "engine/prompt_builder.h"

namespace moa::ui {

namespace {
enum Field { kProvider = 1000, kModel, kTemperature, kMaxTokens, kSystem, kName, kPlacement, kPolicy };
}

Inspector::Inspector(ConfigDocument* doc, QWidget* parent) : QWidget(parent), doc_(doc) {
    auto* v = new QVBoxLayout(this);
    agent_box_ = new QGroupBox(tr("Agent"));
    auto* f = new QFormLayout(agent_box_);
    provider_ = new QComboBox;
    provider_->setAccessibleName(tr("Provider"));
    model_ = new QLineEdit;
    model_->setAccessibleName(tr("Model"));
    model_->setObjectName("model");
    auto* trow = new QHBoxLayout;
    temp_set_ = new QCheckBox;
    temp_set_->setAccessibleName(tr("Set temperature"));
    temperature_ = new QDoubleSpinBox;
    temperature_->setRange(0, 2);
    temperature_->setSingleStep(0.1);
    temperature_->setAccessibleName(tr("Temperature"));
    trow->addWidget(temp_set_);
    trow->addWidget(temperature_, 1);
    max_tokens_ = new QSpinBox;
    max_tokens_->setRange(0, 1000000);
    max_tokens_->setSpecialValueText(tr("provider default"));
    max_tokens_->setAccessibleName(tr("Maximum tokens"));
    max_tokens_->setObjectName("max_tokens");
    system_ = new QPlainTextEdit;
    system_->setAccessibleName(tr("Agent system prompt"));
    system_->setMaximumHeight(70);
    tab_moves_focus(system_);
    problems_ = new QLabel;
    problems_->setWordWrap(true);
    problems_->setStyleSheet("color: #D03A3A");
    f->addRow(tr("Provider"), provider_);
    f->addRow(tr("Model"), model_);
    f->addRow(tr("Temperature"), trow);
    f->addRow(tr("Max tokens"), max_tokens_);
    f->addRow(tr("System"), system_);
    f->addRow(problems_);
    v->addWidget(agent_box_);

    auto* cbox = new QGroupBox(tr("Configuration"));
    auto* cf = new QFormLayout(cbox);
    name_ = new QLineEdit;
    name_->setAccessibleName(tr("Configuration name"));
    placement_ = new QComboBox;
    placement_->addItems({"system", "user"});
    placement_->setAccessibleName(tr("Aggregation placement"));
    policy_ = new QComboBox;
    policy_->addItems({"drop", "abort"});
    policy_->setAccessibleName(tr("On agent failure"));
    cf->addRow(tr("Name"), name_);
    cf->addRow(tr("Aggregation placement"), placement_);
    cf->addRow(tr("On agent failure"), policy_);
    v->addWidget(cbox);
    v->addWidget(new QLabel(tr("<b>What a layer-2 agent is sent</b>")));
    preview_ = new QPlainTextEdit;
    preview_->setReadOnly(true);
    preview_->setAccessibleName(tr("Message preview"));
    v->addWidget(preview_, 1);

    connect(provider_, &QComboBox::currentTextChanged, this, [this] { commitAgent(kProvider); });
    connect(model_, &QLineEdit::textEdited, this, [this] { commitAgent(kModel); });
    connect(temp_set_, &QCheckBox::toggled, this, [this] { commitAgent(kTemperature); });
    connect(temperature_, &QDoubleSpinBox::valueChanged, this, [this] { commitAgent(kTemperature); });
    connect(max_tokens_, &QSpinBox::valueChanged, this, [this] { commitAgent(kMaxTokens); });
    connect(system_, &QPlainTextEdit::textChanged, this, [this] { commitAgent(kSystem); });
    connect(name_, &QLineEdit::textEdited, this, [this](const QString& t) {
        doc_->edit(tr("Rename configuration"), [t](config::Config& c) { c.name = t.toStdString(); }, kName);
    });
    connect(placement_, &QComboBox::currentTextChanged, this, [this](const QString& t) {
        if (loading_) return;
        doc_->edit(tr("Change placement"), [t](config::Config& c) {
            c.aggregation.placement = t == "user" ? config::Placement::User : config::Placement::System;
        });
    });
    connect(policy_, &QComboBox::currentTextChanged, this, [this](const QString& t) {
        if (loading_) return;
        doc_->edit(tr("Change failure policy"), [t](config::Config& c) {
            c.on_agent_failure = t == "abort" ? config::FailurePolicy::Abort : config::FailurePolicy::Drop;
        });
    });
    connect(doc_, &ConfigDocument::changed, this, &Inspector::refresh);
    refresh();
}

void Inspector::setAgent(int layer, int index) {
    layer_ = layer;
    index_ = index;
    refresh();
}

void Inspector::refresh() {
    loading_ = true;
    const auto& c = doc_->config();
    const bool has = layer_ >= 0 && layer_ < static_cast<int>(c.layers.size()) && index_ >= 0 &&
                     index_ < static_cast<int>(c.layers[static_cast<std::size_t>(layer_)].agents.size());
    agent_box_->setEnabled(has);
    agent_box_->setTitle(has ? tr("Agent %1 of layer %2").arg(index_ + 1).arg(layer_ + 1) : tr("Agent (select one in the graph)"));
    provider_->clear();
    for (const auto& [name, _] : c.providers) provider_->addItem(QString::fromStdString(name));
    if (has) {
        const auto& a = c.layers[static_cast<std::size_t>(layer_)].agents[static_cast<std::size_t>(index_)];
        provider_->setCurrentText(QString::fromStdString(a.provider));
        if (model_->text() != QString::fromStdString(a.model)) model_->setText(QString::fromStdString(a.model));
        temp_set_->setChecked(a.params.temperature.has_value());
        temperature_->setEnabled(a.params.temperature.has_value());
        temperature_->setValue(a.params.temperature.value_or(0.7));
        max_tokens_->setValue(static_cast<int>(a.params.max_tokens.value_or(0)));
        QString sys = QString::fromStdString(a.system.value_or(""));
        if (system_->toPlainText() != sys) system_->setPlainText(sys);
        QStringList problems;
        const std::string prefix = "/layers/" + std::to_string(layer_) + "/agents/" + std::to_string(index_);
        for (const auto& i : doc_->issues())
            if (i.pointer.rfind(prefix, 0) == 0) problems << QString::fromStdString(i.pointer.substr(prefix.size()) + ": " + i.message);
        problems_->setText(problems.join("\n"));
    } else {
        // Nothing selected: the disabled fields show nothing, not the last agent's values
        // (which may belong to another file).
        provider_->setCurrentIndex(-1);
        model_->clear();
        temp_set_->setChecked(false);
        temperature_->setEnabled(false);
        temperature_->setValue(0.7);
        max_tokens_->setValue(0);
        system_->clear();
        problems_->clear();
    }
    if (name_->text() != QString::fromStdString(c.name)) name_->setText(QString::fromStdString(c.name));
    placement_->setCurrentText(config::to_string(c.aggregation.placement));
    policy_->setCurrentText(config::to_string(c.on_agent_failure));
    // Preview: what the first agent of layer 2 (or the aggregator) would receive.
    if (c.layers.size() > 1 && !c.layers[1].agents.empty()) {
        engine::References refs;
        for (std::size_t i = 0; i < c.layers[0].agents.size(); ++i)
            refs.answers.push_back("<answer of " + c.layers[0].agents[i].model + ">");
        auto msgs = engine::build_messages(c, c.layers[1].agents[0], engine::RunInput::from_prompt("<your prompt>"), &refs);
        QString text;
        for (const auto& m : msgs) text += QString::fromStdString("── " + m.role + " ──\n" + m.content + "\n\n");
        preview_->setPlainText(text);
    } else {
        preview_->setPlainText(tr("A one-layer configuration is a plain call: the agent gets the conversation as it is."));
    }
    loading_ = false;
}

void Inspector::commitAgent(int field) {
    if (loading_ || layer_ < 0) return;
    const auto& c = doc_->config();
    if (layer_ >= static_cast<int>(c.layers.size()) || index_ >= static_cast<int>(c.layers[static_cast<std::size_t>(layer_)].agents.size())) return;
    config::Agent a = c.layers[static_cast<std::size_t>(layer_)].agents[static_cast<std::size_t>(index_)];
    switch (field) {
    case kProvider: a.provider = provider_->currentText().toStdString(); break;
    case kModel: a.model = model_->text().toStdString(); break;
    case kTemperature:
        if (temp_set_->isChecked()) a.params.temperature = temperature_->value();
        else a.params.temperature.reset();
        break;
    case kMaxTokens:
        if (max_tokens_->value() > 0) a.params.max_tokens = max_tokens_->value();
        else a.params.max_tokens.reset();
        break;
    case kSystem: {
        auto s = system_->toPlainText().toStdString();
        if (s.empty()) a.system.reset();
        else a.system = s;
        break;
    }
    }
    // Typing into one field of one agent is one undo step.
    doc_->setAgent(layer_, index_, a, field * 10000 + layer_ * 100 + index_);
}

} // namespace moa::ui
