#include "ui/finetune_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStackedWidget>
#include <QVBoxLayout>

#include <climits>

#include "core/store/store.h"

namespace gs::ui {

namespace {

constexpr int kModelRole = Qt::UserRole;       // the run's name or the folder
constexpr int kLabelRole = Qt::UserRole + 1;   // what job labels and output folders call it
constexpr int kTaskRole = Qt::UserRole;

QString title_of(DownstreamTask task) { return QString::fromStdString(task_title(task)); }

QString settings_key(DownstreamTask task, const char* field) {
    return QStringLiteral("finetune/%1/%2").arg(QString::fromStdString(task_code(task)), QLatin1String(field));
}

// What each task reads, as a hint in the empty file fields.
QString format_hint(DownstreamTask task) {
    switch (task) {
        case DownstreamTask::nli:
            return QObject::tr("klue-nli-v1.1_train.json, or the HF export (JSON or JSON Lines)");
        case DownstreamTask::extractive_qa:
        case DownstreamTask::generative_qa:
            return QObject::tr("KorQuAD_v1.0_train.json (SQuAD v1.1 JSON)");
        case DownstreamTask::summarization:
            return QObject::tr("AIHub news JSON, {document, summary} JSON Lines, or a sci-news-sum-kr folder");
    }
    return {};
}

// The page's heading: the task, its model and the metric it is scored by.
QString heading(DownstreamTask task) {
    switch (task) {
        case DownstreamTask::nli:
            return QObject::tr("<b>KLUE-NLI</b>: encoder + classifier; accuracy on the dev set");
        case DownstreamTask::extractive_qa:
            return QObject::tr("<b>KorQuAD 1.0, extractive</b>: encoder + span head over sliding windows; EM and F1");
        case DownstreamTask::generative_qa:
            return QObject::tr("<b>KorQuAD 1.0, generative</b>: question + context → answer; EM and F1");
        case DownstreamTask::summarization:
            return QObject::tr("<b>Summarisation</b>: document → summary; Rouge-L F1");
    }
    return {};
}

QSpinBox* spin_box(int minimum, int maximum, const QString& zero_text = QString()) {
    auto* box = new QSpinBox;
    box->setRange(minimum, maximum);
    if (!zero_text.isEmpty()) box->setSpecialValueText(zero_text);  // shown at the minimum, 0
    return box;
}

QDoubleSpinBox* real_box(double minimum, double maximum, int decimals, double step) {
    auto* box = new QDoubleSpinBox;
    box->setRange(minimum, maximum);
    box->setDecimals(decimals);
    box->setSingleStep(step);
    return box;
}

bool generates_text(DownstreamTask task) {
    return task == DownstreamTask::generative_qa || task == DownstreamTask::summarization;
}

}  // namespace

FinetuneDialog::FinetuneDialog(QString databasePath, QWidget* parent)
    : QDialog(parent),
      database_(std::move(databasePath)),
      stamp_(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"))) {
    setWindowTitle(tr("Fine-tune models on the downstream tasks"));
    output_ = new QLineEdit(QFileInfo(database_).absoluteDir().filePath(QStringLiteral("finetune")));
    device_ = new QComboBox;
    device_->setEditable(true);
    device_->setMinimumWidth(160);
    device_->addItems({QStringLiteral("auto"), QStringLiteral("cpu"), QStringLiteral("cuda")});
    threads_ = spin_box(0, 4096, tr("all cores"));
    threads_->setToolTip(tr("LibTorch threads on the CPU for these fine-tunes"));
    summary_ = new QLabel;
    problem_ = new QLabel;
    problem_->setStyleSheet(QStringLiteral("color: #b00020"));
    problem_->setWordWrap(true);
    queue_ = new QPushButton(tr("Queue"));
    queue_->setDefault(true);
    connect(queue_, &QPushButton::clicked, this, &FinetuneDialog::queueJobs);

    auto* choices = new QHBoxLayout;
    choices->addWidget(buildModelsBox(), 2);
    choices->addWidget(buildTasksBox(), 5);
    auto* run = new QFormLayout;
    run->addRow(tr("Output folder:"), buildFileRow(output_, true));
    auto* device_row = new QHBoxLayout;
    device_row->addWidget(device_);
    device_row->addSpacing(24);
    device_row->addWidget(new QLabel(tr("CPU threads:")));
    device_row->addWidget(threads_);
    device_row->addStretch(1);
    run->addRow(tr("Device:"), device_row);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    buttons->addButton(queue_, QDialogButtonBox::AcceptRole);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(choices, 1);
    layout->addLayout(run);
    layout->addWidget(summary_);
    layout->addWidget(problem_);
    layout->addWidget(buttons);

    loadModels();
    restoreRemembered();
    connect(models_, &QListWidget::itemChanged, this, &FinetuneDialog::updateSummary);
    connect(tasks_, &QListWidget::itemChanged, this, &FinetuneDialog::updateSummary);
    connect(output_, &QLineEdit::textChanged, this, &FinetuneDialog::updateSummary);
    for (auto& [task, page] : pages_) {
        connect(page.train, &QLineEdit::textChanged, this, &FinetuneDialog::updateSummary);
        connect(page.dev, &QLineEdit::textChanged, this, &FinetuneDialog::updateSummary);
    }
    // Enter in a field queues (when it can), never opens a file chooser.
    for (auto* button : findChildren<QPushButton*>()) button->setAutoDefault(button == queue_);
    updateSummary();
    resize(1080, 600);
}

QWidget* FinetuneDialog::buildModelsBox() {
    auto* box = new QGroupBox(tr("Models"));
    models_ = new QListWidget;
    models_->setToolTip(tr("Runs of this workspace with a final checkpoint, and checkpoint folders you add"));
    auto* add = new QPushButton(tr("Add checkpoint folder…"));
    connect(add, &QPushButton::clicked, this, [this] {
        const QString folder = QFileDialog::getExistingDirectory(this, tr("A checkpoint folder (config.json, model.safetensors, spiece.model)"));
        if (!folder.isEmpty()) addModelFolder(folder);
    });
    auto* layout = new QVBoxLayout(box);
    layout->addWidget(models_);
    layout->addWidget(add);
    return box;
}

QWidget* FinetuneDialog::buildTasksBox() {
    auto* box = new QGroupBox(tr("Tasks"));
    tasks_ = new QListWidget;
    tasks_->setMaximumWidth(190);
    task_pages_ = new QStackedWidget;
    for (DownstreamTask task : all_downstream_tasks()) {
        auto* item = new QListWidgetItem(title_of(task), tasks_);
        item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
        item->setCheckState(Qt::Unchecked);
        item->setData(kTaskRole, static_cast<int>(task));
        task_pages_->addWidget(buildTaskPage(task));
    }
    // The checked box says whether a task runs; the selected row shows its files and settings.
    connect(tasks_, &QListWidget::currentRowChanged, task_pages_, &QStackedWidget::setCurrentIndex);
    tasks_->setCurrentRow(0);
    auto* layout = new QHBoxLayout(box);
    layout->addWidget(tasks_);
    layout->addWidget(task_pages_, 1);
    return box;
}

QWidget* FinetuneDialog::buildFileRow(QLineEdit* edit, bool folders) {
    auto* row = new QWidget;
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(edit, 1);
    auto* file = new QPushButton(tr("File…"));
    connect(file, &QPushButton::clicked, this, [this, edit] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Choose a file"), edit->text());
        if (!path.isEmpty()) edit->setText(path);
    });
    auto* folder = new QPushButton(tr("Folder…"));
    connect(folder, &QPushButton::clicked, this, [this, edit] {
        const QString path = QFileDialog::getExistingDirectory(this, tr("Choose a folder"), edit->text());
        if (!path.isEmpty()) edit->setText(path);
    });
    layout->addWidget(file);
    layout->addWidget(folder);
    file->setVisible(edit != output_);
    folder->setVisible(folders);
    return row;
}

QWidget* FinetuneDialog::buildTaskPage(DownstreamTask task) {
    TaskPage& p = pages_[task];
    p.train = new QLineEdit;
    p.train->setPlaceholderText(format_hint(task));
    p.dev = new QLineEdit;
    p.dev->setPlaceholderText(tr("none: hold out a share of the training file"));
    p.dev_fraction = real_box(0.01, 0.9, 2, 0.05);
    p.epochs = spin_box(0, 1000, tr("0: score only"));
    p.learning_rate = real_box(1e-6, 1.0, 6, 1e-5);
    p.weight_decay = real_box(0, 1, 4, 0.01);
    p.warmup = real_box(0, 1, 3, 0.01);
    p.batch = spin_box(1, 4096);
    p.max_input = spin_box(8, 8192);
    p.max_train = spin_box(0, INT_MAX, tr("all"));
    p.max_eval = spin_box(0, INT_MAX, tr("all"));
    p.seed = spin_box(0, INT_MAX);
    p.score_before = new QCheckBox(tr("Also score the untrained head"));
    p.save_weights = new QCheckBox(tr("Save the fine-tuned weights"));

    auto* page = new QWidget;
    auto* form = new QFormLayout(page);
    const bool folders = task == DownstreamTask::summarization;
    form->addRow(new QLabel(heading(task)));
    form->addRow(tr("Training file:"), buildFileRow(p.train, folders));
    form->addRow(tr("Dev file:"), buildFileRow(p.dev, folders));
    form->addRow(tr("Held out without a dev file:"), p.dev_fraction);
    form->addRow(tr("Epochs:"), p.epochs);
    form->addRow(tr("Learning rate:"), p.learning_rate);
    form->addRow(tr("Weight decay:"), p.weight_decay);
    form->addRow(tr("Warm-up (share of steps):"), p.warmup);
    form->addRow(tr("Batch size:"), p.batch);
    form->addRow(tr("Max input tokens:"), p.max_input);
    if (task == DownstreamTask::extractive_qa) {
        p.doc_stride = spin_box(1, 8192);
        p.max_answer = spin_box(1, 1024);
        form->addRow(tr("Window stride (tokens):"), p.doc_stride);
        form->addRow(tr("Longest answer (tokens):"), p.max_answer);
    }
    if (generates_text(task)) {
        p.max_target = spin_box(1, 4096);
        p.beams = spin_box(1, 64);
        p.beams->setToolTip(tr("1: greedy search"));
        form->addRow(tr("Max generated tokens:"), p.max_target);
        form->addRow(tr("Beams:"), p.beams);
    }
    if (task == DownstreamTask::summarization) {
        p.rouge_tokens = new QComboBox;
        p.rouge_tokens->addItems({QStringLiteral("whitespace"), QStringLiteral("characters")});
        form->addRow(tr("Rouge-L tokens:"), p.rouge_tokens);
    }
    form->addRow(tr("Training examples:"), p.max_train);
    form->addRow(tr("Dev examples scored:"), p.max_eval);
    form->addRow(tr("Seed:"), p.seed);
    form->addRow(QString(), p.score_before);
    form->addRow(QString(), p.save_weights);
    p.defaults = new QPushButton(tr("Restore defaults"));
    connect(p.defaults, &QPushButton::clicked, this, [this, task] { setSettings(task, FinetuneSettings::defaults_for(task)); });
    form->addRow(QString(), p.defaults);
    setSettings(task, FinetuneSettings::defaults_for(task));
    return page;
}

void FinetuneDialog::setSettings(DownstreamTask task, const FinetuneSettings& s) {
    const TaskPage& p = pages_.at(task);
    p.epochs->setValue(static_cast<int>(s.epochs));
    p.learning_rate->setValue(s.learning_rate);
    p.weight_decay->setValue(s.weight_decay);
    p.warmup->setValue(s.warmup_fraction);
    p.batch->setValue(static_cast<int>(s.batch_size));
    p.max_input->setValue(static_cast<int>(s.max_input_length));
    p.max_train->setValue(static_cast<int>(s.max_train_examples));
    p.max_eval->setValue(static_cast<int>(s.max_eval_examples));
    p.dev_fraction->setValue(s.dev_fraction);
    p.seed->setValue(static_cast<int>(s.seed));
    p.score_before->setChecked(s.score_before_training);
    p.save_weights->setChecked(s.save_weights);
    if (p.doc_stride) p.doc_stride->setValue(static_cast<int>(s.doc_stride));
    if (p.max_answer) p.max_answer->setValue(static_cast<int>(s.max_answer_tokens));
    if (p.max_target) p.max_target->setValue(static_cast<int>(s.max_target_length));
    if (p.beams) p.beams->setValue(static_cast<int>(s.num_beams));
    if (p.rouge_tokens) p.rouge_tokens->setCurrentIndex(s.rouge_tokens == RougeTokens::whitespace ? 0 : 1);
}

// The task's defaults with what the form shows in place of them.
FinetuneSettings FinetuneDialog::settings(DownstreamTask task) const {
    const TaskPage& p = pages_.at(task);
    FinetuneSettings s = FinetuneSettings::defaults_for(task);
    s.epochs = p.epochs->value();
    s.learning_rate = p.learning_rate->value();
    s.weight_decay = p.weight_decay->value();
    s.warmup_fraction = p.warmup->value();
    s.batch_size = p.batch->value();
    s.max_input_length = p.max_input->value();
    s.max_train_examples = p.max_train->value();
    s.max_eval_examples = p.max_eval->value();
    s.dev_fraction = p.dev_fraction->value();
    s.seed = static_cast<uint64_t>(p.seed->value());
    s.score_before_training = p.score_before->isChecked();
    s.save_weights = p.save_weights->isChecked();
    if (p.doc_stride) s.doc_stride = p.doc_stride->value();
    if (p.max_answer) s.max_answer_tokens = p.max_answer->value();
    if (p.max_target) s.max_target_length = p.max_target->value();
    if (p.beams) s.num_beams = p.beams->value();
    if (p.rouge_tokens) s.rouge_tokens = p.rouge_tokens->currentIndex() == 0 ? RougeTokens::whitespace : RougeTokens::characters;
    s.device = device_->currentText().trimmed().toStdString();
    s.threads = threads_->value();
    return s;
}

// Finished runs: those with a final checkpoint (the one a fine-tune starts from).
void FinetuneDialog::loadModels() {
    try {
        Store store(database_.toStdString());
        for (const RunSummary& summary : store.summaries()) {
            for (const CheckpointRecord& checkpoint : store.checkpoints(summary.run.id)) {
                if (checkpoint.kind != CheckpointKind::final) continue;
                const QString name = QString::fromStdString(summary.run.name);
                auto* item = new QListWidgetItem(tr("%1  (%2, final step %3)")
                                                     .arg(name, QString::fromStdString(summary.run.pipeline))
                                                     .arg(checkpoint.step),
                                                 models_);
                item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
                item->setCheckState(Qt::Unchecked);
                item->setData(kModelRole, name);
                item->setData(kLabelRole, name);
                item->setToolTip(QString::fromStdString(checkpoint.path));
                break;
            }
        }
    } catch (const std::exception& error) {
        problem_->setText(tr("Workspace %1: %2").arg(database_, QString::fromUtf8(error.what())));
    }
}

void FinetuneDialog::addModelFolder(const QString& path) {
    const QString folder = QDir::cleanPath(path);
    auto* item = new QListWidgetItem(tr("%1 (folder)").arg(QDir::toNativeSeparators(folder)), models_);
    item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
    item->setCheckState(Qt::Checked);
    item->setData(kModelRole, folder);
    item->setData(kLabelRole, QFileInfo(folder).fileName());
    item->setToolTip(tr("Scores of a model outside the workspace are shown, not stored"));
    updateSummary();
}

void FinetuneDialog::setModelChecked(const QString& runOrFolder, bool checked) {
    for (int row = 0; row < models_->count(); ++row) {
        QListWidgetItem* item = models_->item(row);
        if (item->data(kModelRole).toString() == runOrFolder) item->setCheckState(checked ? Qt::Checked : Qt::Unchecked);
    }
}

QListWidgetItem* FinetuneDialog::taskItem(DownstreamTask task) const {
    for (int row = 0; row < tasks_->count(); ++row) {
        if (tasks_->item(row)->data(kTaskRole).toInt() == static_cast<int>(task)) return tasks_->item(row);
    }
    return nullptr;
}

void FinetuneDialog::setTaskChecked(DownstreamTask task, bool checked) {
    taskItem(task)->setCheckState(checked ? Qt::Checked : Qt::Unchecked);
}

void FinetuneDialog::showTask(DownstreamTask task) { tasks_->setCurrentItem(taskItem(task)); }
void FinetuneDialog::setOutputFolder(const QString& path) { output_->setText(path); }

std::vector<std::pair<QString, QString>> FinetuneDialog::checkedModels() const {
    std::vector<std::pair<QString, QString>> models;
    for (int row = 0; row < models_->count(); ++row) {
        const QListWidgetItem* item = models_->item(row);
        if (item->checkState() == Qt::Checked) models.emplace_back(item->data(kModelRole).toString(), item->data(kLabelRole).toString());
    }
    return models;
}

std::vector<DownstreamTask> FinetuneDialog::checkedTasks() const {
    std::vector<DownstreamTask> tasks;
    for (int row = 0; row < tasks_->count(); ++row) {
        const QListWidgetItem* item = tasks_->item(row);
        if (item->checkState() == Qt::Checked) tasks.push_back(static_cast<DownstreamTask>(item->data(kTaskRole).toInt()));
    }
    return tasks;
}

QString FinetuneDialog::problem() const {
    if (checkedModels().empty()) return tr("Check a model: a finished run, or a checkpoint folder you add.");
    if (checkedTasks().empty()) return tr("Check a task.");
    for (DownstreamTask task : checkedTasks()) {
        const QString train = pages_.at(task).train->text().trimmed();
        const QString dev = pages_.at(task).dev->text().trimmed();
        if (train.isEmpty()) return tr("%1: choose the training file.").arg(title_of(task));
        if (!QFileInfo::exists(train)) return tr("%1: the training file %2 does not exist.").arg(title_of(task), train);
        if (!dev.isEmpty() && !QFileInfo::exists(dev)) return tr("%1: the dev file %2 does not exist.").arg(title_of(task), dev);
    }
    if (output_->text().trimmed().isEmpty()) return tr("Choose the output folder.");
    return {};
}

// Each job writes into its own folder under the output folder: MODEL-TASK-TIME, the time the
// dialog opened (so that asking twice gives the same jobs).
std::vector<FinetuneJob> FinetuneDialog::jobs() const {
    if (!problem().isEmpty()) return {};
    const QDir output(output_->text().trimmed());
    std::vector<FinetuneJob> jobs;
    for (const auto& [model, label] : checkedModels()) {
        for (DownstreamTask task : checkedTasks()) {
            FinetuneJob job;
            job.model = model;
            job.label = tr("%1 · %2").arg(label, title_of(task));
            job.request.task = task;
            job.request.train_path = pages_.at(task).train->text().trimmed().toStdString();
            job.request.dev_path = pages_.at(task).dev->text().trimmed().toStdString();
            job.request.output_dir =
                output.filePath(QStringLiteral("%1-%2-%3").arg(label, QString::fromStdString(task_code(task)), stamp_)).toStdString();
            job.request.settings = settings(task);
            jobs.push_back(job);
        }
    }
    return jobs;
}

void FinetuneDialog::updateSummary() {
    const QString why = problem();
    problem_->setText(why);
    queue_->setEnabled(why.isEmpty());
    const size_t count = checkedModels().size() * checkedTasks().size();
    queue_->setText(count == 1 ? tr("Queue 1 fine-tune") : tr("Queue %1 fine-tunes").arg(count));
    summary_->setText(tr("%1 model(s) × %2 task(s); the jobs wait in the Runs queue, and the scores of runs go into "
                         "the Results table.")
                          .arg(checkedModels().size())
                          .arg(checkedTasks().size()));
}

// The data files, the checked tasks and the output folder come back in the next session.
void FinetuneDialog::remember() const {
    QSettings settings;
    for (const auto& [task, page] : pages_) {
        settings.setValue(settings_key(task, "train"), page.train->text().trimmed());
        settings.setValue(settings_key(task, "dev"), page.dev->text().trimmed());
        settings.setValue(settings_key(task, "checked"), taskItem(task)->checkState() == Qt::Checked);
    }
    settings.setValue(QStringLiteral("finetune/output"), output_->text().trimmed());
}

void FinetuneDialog::restoreRemembered() {
    const QSettings settings;
    for (auto& [task, page] : pages_) {
        page.train->setText(settings.value(settings_key(task, "train")).toString());
        page.dev->setText(settings.value(settings_key(task, "dev")).toString());
        setTaskChecked(task, settings.value(settings_key(task, "checked"), false).toBool());
    }
    const QString output = settings.value(QStringLiteral("finetune/output")).toString();
    if (!output.isEmpty()) output_->setText(output);
}

void FinetuneDialog::queueJobs() {
    if (!problem().isEmpty()) return;
    remember();
    accept();
}

}  // namespace gs::ui
