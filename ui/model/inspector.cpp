// SPDX-License-Identifier: MIT
#include "model/inspector.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QFrame>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "common/keyboard.h"
#include "engine/prompt_builder.h"

namespace moa::ui {

namespace {
enum Field { kProvider = 1000, kModel, kTemperature, kMaxTokens, kSystem, kName, kPlacement, kPolicy, kQuorum, kDeadline, kChunk };

// What each pipelining and layer-limit field does and what it costs, for the tooltips.
QString pipelining_tip() {
    return QObject::tr(
        "barrier: a layer starts once every agent of the previous layer has finished (one call per agent).\n"
        "staircase: a layer starts as soon as every agent of the previous one has written its first step of tokens, "
        "and works in steps over their answers while they grow: the final answer's first token comes much sooner.\n"
        "Cost: more calls and more prompt tokens, since every step re-sends the references as they are then.");
}
QString chunk_tip() {
    return QObject::tr(
        "Tokens per step: a layer starts once each previous answer has this many, and takes its next step when each has "
        "grown by as many more; a step writes at most this many tokens while the references still grow.\n"
        "Smaller steps start sooner but make more calls, and every step re-sends all the references (prompt tokens "
        "paid again).");
}
QString continuation_tip() {
    return QObject::tr(
        "How a step continues the agent's answer so far:\n"
        "instruction: in the prompt, with an instruction to continue exactly where it stops (works with every provider)\n"
        "assistant_prefix: as a trailing assistant message marked \"prefix\": true (DeepSeek, Mistral)\n"
        "continue_final_message: vLLM's and SGLang's continuation of the last assistant message");
}
QString quorum_tip() {
    return QObject::tr(
        "The layer is done once this many of its agents have finished; the agents still running are cut (their calls "
        "closed, so nothing more is paid) and the next layer is told how many answers are missing.\n"
        "Cost: the next layer reads fewer answers. \"every agent\": wait for all of them.");
}
QString deadline_tip() {
    return QObject::tr(
        "The layer is done this long after it started, with the answers finished by then (if none has, with the first "
        "to finish); the agents still running are cut (their calls closed, so nothing more is paid).\n"
        "Cost: the next layer reads fewer answers. \"none\": no deadline.");
}
QString last_layer_reason() {
    return QObject::tr("The last layer (the aggregator) has nothing to wait for: a quorum and a deadline are for layers "
                       "whose answers another layer reads.");
}
} // namespace

Inspector::Inspector(ConfigDocument* doc, QWidget* parent) : QWidget(parent), doc_(doc) {
    auto* v = new QVBoxLayout(this);
    // Over a stored run: why nothing here can be edited, and the way to edit it.
    recorded_note_ = new QFrame;
    recorded_note_->setObjectName("inspector_recorded");
    recorded_note_->setStyleSheet("#inspector_recorded { background: #E8F0FB; border: 1px solid #3A7BD5; border-radius: 4px } "
                                  "#inspector_recorded QLabel { color: black }");
    auto* rn = new QVBoxLayout(recorded_note_);
    rn->setContentsMargins(6, 4, 6, 4);
    recorded_why_ = new QLabel;
    recorded_why_->setWordWrap(true);
    auto* copy = new QPushButton(tr("Edit a copy"));
    copy->setObjectName("inspector_edit_copy");
    copy->setToolTip(tr("Open this run's configuration as a new, unsaved document"));
    connect(copy, &QPushButton::clicked, this, &Inspector::editCopyRequested);
    rn->addWidget(recorded_why_);
    rn->addWidget(copy, 0, Qt::AlignLeft);
    recorded_note_->hide();
    v->addWidget(recorded_note_);
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

    layer_box_ = new QGroupBox(tr("Layer"));
    auto* lf = new QFormLayout(layer_box_);
    quorum_ = new QSpinBox;
    quorum_->setObjectName("quorum");
    quorum_->setRange(0, 10'000);
    quorum_->setSpecialValueText(tr("every agent"));
    quorum_->setSuffix(tr(" finished"));
    quorum_->setAccessibleName(tr("Layer quorum"));
    deadline_ = new QSpinBox;
    deadline_->setObjectName("deadline_ms");
    deadline_->setRange(0, 86'400'000);
    deadline_->setSingleStep(500);
    deadline_->setSpecialValueText(tr("none"));
    deadline_->setSuffix(tr(" ms"));
    deadline_->setAccessibleName(tr("Layer deadline in milliseconds"));
    layer_note_ = new QLabel;
    layer_note_->setObjectName("layer_note");
    layer_note_->setWordWrap(true);
    layer_note_->setStyleSheet("color: gray");
    layer_problems_ = new QLabel;
    layer_problems_->setObjectName("layer_problems");
    layer_problems_->setWordWrap(true);
    layer_problems_->setStyleSheet("color: #D03A3A");
    lf->addRow(tr("Quorum"), quorum_);
    lf->addRow(tr("Deadline"), deadline_);
    lf->addRow(layer_note_);
    lf->addRow(layer_problems_);
    v->addWidget(layer_box_);

    auto* cbox = new QGroupBox(tr("Configuration"));
    config_box_ = cbox;
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
    pipelining_ = new QComboBox;
    pipelining_->setObjectName("pipelining");
    pipelining_->addItems({"barrier", "staircase"});
    pipelining_->setAccessibleName(tr("Pipelining"));
    pipelining_->setToolTip(pipelining_tip());
    chunk_ = new QSpinBox;
    chunk_->setObjectName("chunk_tokens");
    chunk_->setRange(1, 100'000);
    chunk_->setSuffix(tr(" tokens"));
    chunk_->setAccessibleName(tr("Staircase step size in tokens"));
    chunk_->setToolTip(chunk_tip());
    continuation_ = new QComboBox;
    continuation_->setObjectName("continuation");
    continuation_->addItems({"instruction", "assistant_prefix", "continue_final_message"});
    continuation_->setAccessibleName(tr("Staircase continuation"));
    continuation_->setToolTip(continuation_tip());
    config_problems_ = new QLabel;
    config_problems_->setObjectName("config_problems");
    config_problems_->setWordWrap(true);
    config_problems_->setStyleSheet("color: #D03A3A");
    cf->addRow(tr("Pipelining"), pipelining_);
    cf->addRow(tr("Step size"), chunk_);
    cf->addRow(tr("Continuation"), continuation_);
    cf->addRow(config_problems_);
    v->addWidget(cbox);
    v->addWidget(new QLabel(tr("<b>What a layer-2 agent is sent</b>")));
    preview_ = new QPlainTextEdit;
    preview_->setReadOnly(true);
    preview_->setAccessibleName(tr("Message preview"));
    v->addWidget(preview_, 1);

    // It fits the dock's width (at 1024×700 its widest rows, "continue_final_message" and
    // "Aggregation placement", pushed the agent's own fields past the right edge, behind a
    // sideways scroll): long labels go above their fields, the lists shorten what they show.
    for (auto* form : findChildren<QFormLayout*>()) form->setRowWrapPolicy(QFormLayout::WrapLongRows);
    for (auto* combo : findChildren<QComboBox*>()) {
        combo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        combo->setMinimumContentsLength(8);
    }

    connect(provider_, &QComboBox::currentTextChanged, this, [this] { commitAgent(kProvider); });
    connect(model_, &QLineEdit::textEdited, this, [this] { commitAgent(kModel); });
    connect(temp_set_, &QCheckBox::toggled, this, [this] { commitAgent(kTemperature); });
    connect(temperature_, &QDoubleSpinBox::valueChanged, this, [this] { commitAgent(kTemperature); });
    connect(max_tokens_, &QSpinBox::valueChanged, this, [this] { commitAgent(kMaxTokens); });
    connect(system_, &QPlainTextEdit::textChanged, this, [this] { commitAgent(kSystem); });
    connect(name_, &QLineEdit::textEdited, this, [this](const QString& t) {
        if (recorded_) return;
        doc_->edit(tr("Rename configuration"), [t](config::Config& c) { c.name = t.toStdString(); }, kName);
    });
    connect(placement_, &QComboBox::currentTextChanged, this, [this](const QString& t) {
        if (loading_ || recorded_) return;
        doc_->edit(tr("Change placement"), [t](config::Config& c) {
            c.aggregation.placement = t == "user" ? config::Placement::User : config::Placement::System;
        });
    });
    connect(policy_, &QComboBox::currentTextChanged, this, [this](const QString& t) {
        if (loading_ || recorded_) return;
        doc_->edit(tr("Change failure policy"), [t](config::Config& c) {
            c.on_agent_failure = t == "abort" ? config::FailurePolicy::Abort : config::FailurePolicy::Drop;
        });
    });
    connect(quorum_, &QSpinBox::valueChanged, this, [this] { commitLayer(kQuorum); });
    connect(deadline_, &QSpinBox::valueChanged, this, [this] { commitLayer(kDeadline); });
    connect(pipelining_, &QComboBox::currentTextChanged, this, [this](const QString& t) {
        if (loading_ || recorded_) return;
        doc_->edit(tr("Change pipelining"), [t](config::Config& c) {
            c.pipelining.mode = t == "staircase" ? config::Pipelining::Mode::Staircase : config::Pipelining::Mode::Barrier;
        });
    });
    connect(chunk_, &QSpinBox::valueChanged, this, [this](int v) {
        if (loading_ || recorded_) return;
        doc_->edit(tr("Change step size"), [v](config::Config& c) { c.pipelining.chunk_tokens = v; }, kChunk * 10000);
    });
    connect(continuation_, &QComboBox::currentIndexChanged, this, [this](int i) {
        if (loading_ || recorded_ || i < 0) return;
        doc_->edit(tr("Change continuation"), [i](config::Config& c) {
            c.pipelining.continuation = static_cast<config::Pipelining::Continuation>(i);
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

void Inspector::showRecorded(std::optional<config::Config> recorded, const QString& why) {
    recorded_ = std::move(recorded);
    recorded_why_->setText(why);
    recorded_note_->setVisible(recorded_.has_value());
    layer_ = index_ = -1; // the other graph's selection means nothing here
    refresh();
}

std::vector<config::Issue> Inspector::issues() const {
    // A recorded configuration ran as it is: its problems are not the document's to fix here.
    return recorded_ ? std::vector<config::Issue>{} : doc_->issues();
}

void Inspector::refresh() {
    loading_ = true;
    const auto& c = shown();
    const bool has = layer_ >= 0 && layer_ < static_cast<int>(c.layers.size()) && index_ >= 0 &&
                     index_ < static_cast<int>(c.layers[static_cast<std::size_t>(layer_)].agents.size());
    agent_box_->setEnabled(has && !recorded_);
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
        for (const auto& i : issues())
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
    const bool staircase = c.pipelining.mode == config::Pipelining::Mode::Staircase;
    pipelining_->setCurrentText(config::to_string(c.pipelining.mode));
    chunk_->setValue(c.pipelining.chunk_tokens);
    continuation_->setCurrentText(config::to_string(c.pipelining.continuation));
    chunk_->setEnabled(staircase);
    continuation_->setEnabled(staircase);
    refreshLayer(c, has);
    config_box_->setEnabled(!recorded_);
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

void Inspector::refreshLayer(const config::Config& c, bool has) {
    const auto issues = this->issues();
    QStringList config_problems;
    for (const auto& i : issues)
        if (i.pointer.rfind("/pipelining", 0) == 0) config_problems << QString::fromStdString(i.pointer + ": " + i.message);
    config_problems_->setText(config_problems.join("\n"));
    config_problems_->setVisible(!config_problems.isEmpty());
    layer_box_->setEnabled(has && !recorded_);
    if (!has) {
        layer_box_->setTitle(tr("Layer (select an agent in the graph)"));
        quorum_->setValue(0);
        deadline_->setValue(0);
        layer_note_->clear();
        layer_note_->hide();
        layer_problems_->clear();
        layer_problems_->hide();
        return;
    }
    const auto& L = c.layers[static_cast<std::size_t>(layer_)];
    const bool last = layer_ + 1 == static_cast<int>(c.layers.size());
    layer_box_->setTitle(tr("Layer %1").arg(layer_ + 1));
    quorum_->setMaximum(std::max(10'000, L.quorum.value_or(0)));
    quorum_->setValue(L.quorum.value_or(0));
    deadline_->setValue(static_cast<int>(std::min<long>(L.deadline_ms.value_or(0), deadline_->maximum())));
    // On the last layer the fields are off, with the reason; a value set there before the layer
    // became the last stays editable, so that it can be cleared.
    quorum_->setEnabled(!last || L.quorum);
    deadline_->setEnabled(!last || L.deadline_ms);
    quorum_->setToolTip(last ? last_layer_reason() : quorum_tip());
    deadline_->setToolTip(last ? last_layer_reason() : deadline_tip());
    layer_note_->setText(last ? last_layer_reason() : QString());
    layer_note_->setVisible(last);
    QStringList problems;
    const std::string prefix = "/layers/" + std::to_string(layer_);
    for (const auto& i : issues)
        if (i.pointer.rfind(prefix + "/", 0) == 0 && i.pointer.rfind(prefix + "/agents", 0) != 0)
            problems << QString::fromStdString(i.pointer.substr(prefix.size()) + ": " + i.message);
    layer_problems_->setText(problems.join("\n"));
    layer_problems_->setVisible(!problems.isEmpty());
}

void Inspector::commitLayer(int field) {
    if (loading_ || recorded_ || layer_ < 0 || layer_ >= static_cast<int>(doc_->config().layers.size())) return;
    const int layer = layer_;
    const int v = field == kQuorum ? quorum_->value() : deadline_->value();
    const QString what = field == kQuorum ? tr("Change layer %1's quorum").arg(layer + 1) : tr("Change layer %1's deadline").arg(layer + 1);
    doc_->edit(what, [field, layer, v](config::Config& c) {
        auto& L = c.layers[static_cast<std::size_t>(layer)];
        if (field == kQuorum) L.quorum = v > 0 ? std::optional<int>(v) : std::nullopt;
        else L.deadline_ms = v > 0 ? std::optional<long>(v) : std::nullopt;
    }, field * 10000 + layer * 100);
}

void Inspector::commitAgent(int field) {
    if (loading_ || recorded_ || layer_ < 0) return;
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
