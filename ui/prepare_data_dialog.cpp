#include "ui/prepare_data_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "core/data/prepare.h"
#include "core/data/span_corruption.h"

namespace gs::ui {

// What the worker reads: a copy of the form, taken on the GUI thread.
struct PrepareRequest {
    CorpusOptions corpus;
    TokenizerChoice tokenizer;
    std::string out_dir;
};

namespace {

QString describe(const PreparedTokenizer& t, const TokenCacheSummary& s) {
    const QString tokenizer = QObject::tr("Tokenizer: %1 pieces + 100 sentinels, model vocab_size %2 (%3)")
                                  .arg(t.tokenizer.piece_count())
                                  .arg(t.tokenizer.model_vocab_size())
                                  .arg(t.reused ? QObject::tr("reused") : t.trained ? QObject::tr("trained")
                                                                                     : QObject::tr("copied"));
    QString cache = s.reused ? QObject::tr("Cache: reused (corpus and tokenizer unchanged)")
                             : QObject::tr("Cache: %1 MB tokenized in %2 s (%3 MB/s)")
                                   .arg(s.corpus_bytes / 1e6, 0, 'f', 2)
                                   .arg(s.seconds, 0, 'f', 2)
                                   .arg(s.corpus_bytes / 1e6 / s.seconds, 0, 'f', 2);
    if (!s.rebuild_reason.empty()) cache += QObject::tr(", rebuilt: %1").arg(QString::fromStdString(s.rebuild_reason));
    QStringList lines = {tokenizer, cache,
                         QObject::tr("Documents: %1 (train %2, validation %3)")
                             .arg(s.train.documents + s.validation.documents)
                             .arg(s.train.documents)
                             .arg(s.validation.documents),
                         QObject::tr("Tokens: train %1, validation %2").arg(s.train.tokens).arg(s.validation.tokens)};
    for (const auto& warning : s.warnings) lines << QObject::tr("Warning: %1").arg(QString::fromStdString(warning));
    return lines.join(QLatin1Char('\n'));
}

}  // namespace

PrepareDataDialog::PrepareDataDialog(QWidget* parent) : QDialog(parent) {
    setWindowTitle(tr("Prepare a pre-training corpus"));
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(buildCorpusBox());
    layout->addWidget(buildTokenizerBox());
    layout->addWidget(buildBatchBox());
    layout->addWidget(buildRunBox(), 1);
    updateSpanSummary();
    resize(720, 720);
}

PrepareDataDialog::~PrepareDataDialog() {
    cancel_requested_ = true;
    if (worker_.joinable()) worker_.join();  // tokenizer training itself cannot be interrupted
}

QWidget* PrepareDataDialog::buildCorpusBox() {
    auto* box = new QGroupBox(tr("Corpus"));
    auto* form = new QFormLayout(box);
    corpus_ = new QListWidget;
    corpus_->addItem(QString::fromStdString(default_corpus_path()));
    auto* buttons = new QHBoxLayout;
    auto* add_files = new QPushButton(tr("Add files…"));
    auto* add_folder = new QPushButton(tr("Add folder…"));
    auto* remove = new QPushButton(tr("Remove"));
    connect(add_files, &QPushButton::clicked, this, &PrepareDataDialog::addFiles);
    connect(add_folder, &QPushButton::clicked, this, &PrepareDataDialog::addFolder);
    connect(remove, &QPushButton::clicked, this, [this] { qDeleteAll(corpus_->selectedItems()); });
    buttons->addWidget(add_files);
    buttons->addWidget(add_folder);
    buttons->addWidget(remove);
    buttons->addStretch();
    layout_ = new QComboBox;
    layout_->addItems({tr("one document per line"), tr("documents separated by blank lines")});
    json_field_ = new QLineEdit(QStringLiteral("text"));
    bad_input_ = new QComboBox;
    bad_input_->addItems({tr("stop and report"), tr("skip the document and warn")});
    form->addRow(tr("Files and folders:"), corpus_);
    form->addRow(QString(), buttons);
    form->addRow(tr("Plain text:"), layout_);
    form->addRow(tr("JSON Lines field:"), json_field_);
    form->addRow(tr("Bad input:"), bad_input_);
    return box;
}

QWidget* PrepareDataDialog::buildTokenizerBox() {
    auto* box = new QGroupBox(tr("Tokenizer (T5 ids: pad 0, eos 1, unk 2, 100 sentinels)"));
    auto* form = new QFormLayout(box);
    train_ = new QRadioButton(tr("Train from the corpus (unigram, nmt_nfkc, coverage 0.9995), pieces:"));
    train_->setChecked(true);
    vocab_ = new QSpinBox;
    vocab_->setRange(100, 1000000);
    vocab_->setValue(32000);
    auto* load = new QRadioButton(tr("Load a .model file:"));
    model_path_ = new QLineEdit;
    model_path_->setPlaceholderText(QStringLiteral("spiece.model"));
    connect(model_path_, &QLineEdit::textEdited, load, [load] { load->setChecked(true); });
    form->addRow(train_, vocab_);
    form->addRow(load, model_path_);
    out_dir_ = new QLineEdit;
    out_dir_->setPlaceholderText(tr("folder for spiece.model and the tokenized cache"));
    auto* browse = new QPushButton(tr("Choose…"));
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Output folder"));
        if (!dir.isEmpty()) out_dir_->setText(dir);
    });
    auto* out_row = new QHBoxLayout;
    out_row->addWidget(out_dir_, 1);
    out_row->addWidget(browse);
    form->addRow(tr("Output folder:"), out_row);
    return box;
}

QWidget* PrepareDataDialog::buildBatchBox() {
    auto* box = new QGroupBox(tr("Span corruption"));
    auto* form = new QFormLayout(box);
    input_length_ = new QSpinBox;
    input_length_->setRange(8, 65536);
    input_length_->setValue(512);
    noise_density_ = new QDoubleSpinBox;
    noise_density_->setRange(0.01, 0.99);
    noise_density_->setSingleStep(0.01);
    noise_density_->setValue(0.15);
    mean_span_ = new QDoubleSpinBox;
    mean_span_->setRange(1.0, 100.0);
    mean_span_->setValue(3.0);
    span_summary_ = new QLabel;
    connect(input_length_, qOverload<int>(&QSpinBox::valueChanged), this, &PrepareDataDialog::updateSpanSummary);
    connect(noise_density_, qOverload<double>(&QDoubleSpinBox::valueChanged), this,
            &PrepareDataDialog::updateSpanSummary);
    connect(mean_span_, qOverload<double>(&QDoubleSpinBox::valueChanged), this, &PrepareDataDialog::updateSpanSummary);
    form->addRow(tr("Input tokens:"), input_length_);
    form->addRow(tr("Noise density:"), noise_density_);
    form->addRow(tr("Mean span:"), mean_span_);
    form->addRow(tr("Gives:"), span_summary_);
    return box;
}

QWidget* PrepareDataDialog::buildRunBox() {
    auto* box = new QGroupBox(tr("Run"));
    auto* layout = new QVBoxLayout(box);
    progress_ = new QProgressBar;
    progress_->setRange(0, 1000);
    status_ = new QLabel(tr("Not started"));
    report_ = new QPlainTextEdit;
    report_->setReadOnly(true);
    auto* buttons = new QDialogButtonBox;
    start_ = buttons->addButton(tr("Prepare"), QDialogButtonBox::AcceptRole);
    cancel_ = buttons->addButton(tr("Cancel"), QDialogButtonBox::RejectRole);
    cancel_->setEnabled(false);
    auto* close = buttons->addButton(QDialogButtonBox::Close);
    connect(start_, &QPushButton::clicked, this, &PrepareDataDialog::start);
    connect(cancel_, &QPushButton::clicked, this, [this] {
        cancel_requested_ = true;
        status_->setText(tr("Cancelling…"));
    });
    connect(close, &QPushButton::clicked, this, &QDialog::close);
    layout->addWidget(progress_);
    layout->addWidget(status_);
    layout->addWidget(report_, 1);
    layout->addWidget(buttons);
    return box;
}

void PrepareDataDialog::addFiles() {
    for (const QString& file : QFileDialog::getOpenFileNames(this, tr("Corpus files"))) corpus_->addItem(file);
}

void PrepareDataDialog::addFolder() {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Corpus folder"));
    if (!dir.isEmpty()) corpus_->addItem(dir);
}

void PrepareDataDialog::setCorpus(const QStringList& paths) {
    corpus_->clear();
    corpus_->addItems(paths);
}

void PrepareDataDialog::setOutputFolder(const QString& path) { out_dir_->setText(path); }

void PrepareDataDialog::setTrainedVocabulary(int pieces) {
    train_->setChecked(true);
    vocab_->setValue(pieces);
}

void PrepareDataDialog::setInputLength(int tokens) { input_length_->setValue(tokens); }

QString PrepareDataDialog::spanSummary() const { return span_summary_->text(); }

QString PrepareDataDialog::report() const { return report_->toPlainText(); }

void PrepareDataDialog::updateSpanSummary() {
    SpanCorruptionOptions options;
    options.input_length = input_length_->value();
    options.noise_density = noise_density_->value();
    options.mean_span_length = mean_span_->value();
    try {
        const SpanLengths l = compute_span_lengths(options);
        span_summary_->setText(tr("rows of %1 raw tokens, %2 target tokens (%3 noise tokens in %4 spans)")
                                   .arg(l.raw_length)
                                   .arg(l.target_length)
                                   .arg(l.noise_tokens)
                                   .arg(l.noise_spans));
    } catch (const std::exception& error) {
        span_summary_->setText(QString::fromStdString(error.what()));
    }
}

PrepareRequest PrepareDataDialog::requestFromForm() const {
    PrepareRequest request;
    for (int i = 0; i < corpus_->count(); ++i) request.corpus.paths.push_back(corpus_->item(i)->text().toStdString());
    request.corpus.layout = layout_->currentIndex() == 0 ? TextLayout::line_per_document
                                                         : TextLayout::blank_line_separated;
    request.corpus.json_field = json_field_->text().toStdString();
    request.corpus.on_bad_input = bad_input_->currentIndex() == 0 ? BadInputPolicy::stop : BadInputPolicy::skip;
    request.out_dir = out_dir_->text().toStdString();
    if (train_->isChecked()) {
        request.tokenizer.train = TokenizerTrainingOptions{};
        request.tokenizer.train->vocab_size = vocab_->value();
    } else {
        request.tokenizer.model_path = model_path_->text().toStdString();
    }
    return request;
}

void PrepareDataDialog::start() {
    if (running_) return;
    const PrepareRequest request = requestFromForm();
    if (request.out_dir.empty() || request.corpus.paths.empty()) {
        finish(false, tr("Choose at least one corpus path and an output folder."));
        return;
    }
    if (worker_.joinable()) worker_.join();
    running_ = true;
    cancel_requested_ = false;
    start_->setEnabled(false);
    cancel_->setEnabled(true);
    report_->clear();
    status_->setText(tr("Starting…"));
    worker_ = std::thread([this, request] { run(request); });
}

// On the worker thread: everything reaches the widgets through queued calls.
void PrepareDataDialog::run(const PrepareRequest& request) {
    const ProgressCallback progress = [this](const Progress& p) {
        QMetaObject::invokeMethod(this, [this, p] { showProgress(p); }, Qt::QueuedConnection);
        return !cancel_requested_;
    };
    bool ok = false;
    QString text;
    try {
        const PreparedTokenizer tokenizer = prepare_tokenizer(request.out_dir, request.tokenizer, request.corpus, progress);
        TokenCacheOptions cache;
        cache.corpus = request.corpus;
        cache.progress = progress;
        text = describe(tokenizer, prepare_token_cache(request.out_dir, tokenizer.tokenizer, cache));
        ok = true;
    } catch (const OperationCancelled&) {
        text = tr("Cancelled: nothing half-written was left behind.");
    } catch (const std::exception& error) {
        text = tr("Error: %1").arg(QString::fromStdString(error.what()));
    }
    QMetaObject::invokeMethod(this, [this, ok, text] { finish(ok, text); }, Qt::QueuedConnection);
}

void PrepareDataDialog::showProgress(const Progress& p) {
    if (p.stage == "training") {
        progress_->setRange(0, 0);  // sentencepiece reports nothing while it trains: elapsed time against an estimate
        QString text = tr("Training the tokenizer: %1 s").arg(p.elapsed_s, 0, 'f', 0);
        if (p.eta_s >= 0) text += tr(", about %1 s left (estimated from the sentences' size)").arg(p.eta_s, 0, 'f', 0);
        status_->setText(text);
        return;
    }
    progress_->setRange(0, 1000);
    if (p.total > 0) progress_->setValue(static_cast<int>(1000.0 * p.done / p.total));
    QString text = tr("%1: %2 MB").arg(QString::fromStdString(p.stage)).arg(p.done / 1e6, 0, 'f', 1);
    if (p.elapsed_s > 0) text += tr(", %1 MB/s").arg(p.done / 1e6 / p.elapsed_s, 0, 'f', 2);
    if (p.eta_s >= 0) text += tr(", %1 s left").arg(p.eta_s, 0, 'f', 0);
    status_->setText(text);
}

void PrepareDataDialog::finish(bool ok, const QString& text) {
    if (worker_.joinable()) worker_.join();
    running_ = false;
    start_->setEnabled(true);
    cancel_->setEnabled(false);
    progress_->setRange(0, 1000);
    progress_->setValue(ok ? 1000 : 0);
    status_->setText(ok ? tr("Done") : tr("Stopped"));
    report_->setPlainText(text);
    emit preparationFinished(ok);
}

}  // namespace gs::ui
