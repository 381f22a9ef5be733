#include "ui/monitor/results_view.h"

#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QStandardItemModel>
#include <QTableView>
#include <QVBoxLayout>

#include <optional>

#include "core/io/files.h"
#include "core/store/results_table.h"
#include "ui/monitor/status_words.h"

namespace gs::ui {

namespace {

// A cell that sorts by its number, shows it rounded, and stays empty when there is none.
QStandardItem* number_item(const std::optional<double>& value, int decimals) {
    auto* item = new QStandardItem(value ? QString::number(*value, 'f', decimals) : QString());
    if (value) item->setData(*value, Qt::UserRole);
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

QStandardItem* text_item(const QString& text) {
    auto* item = new QStandardItem(text);
    item->setData(text, Qt::UserRole);
    return item;
}

QStandardItem* text_item(const std::string& text) { return text_item(QString::fromStdString(text)); }

// The run's status in the user's language; "external" for a row imported from elsewhere.
QStandardItem* status_item(const ResultsRow& r) {
    return text_item(r.status ? runStatusText(*r.status) : QObject::tr("external"));
}

// A downstream score's cell; its tooltip says which data produced it, as core describes it.
QStandardItem* score_item(const ResultsRow& r, const DownstreamScore& score) {
    QStandardItem* item = number_item(r.*score.value, 2);
    item->setToolTip(QString::fromStdString(score_provenance_text(r, score)));
    return item;
}

QList<QStandardItem*> row_items(const ResultsRow& r) {
    QList<QStandardItem*> items = {text_item(r.run),
            text_item(r.pipeline),
            status_item(r),
            text_item(r.budget),
            number_item(r.train_hours, 3),
            number_item(r.ratio_to_reference_pct, 1),
            number_item(r.valid_loss, 4),
            number_item(r.reach.hours, 3),
            number_item(r.reach_ratio_pct, 1)};
    for (const DownstreamScore& score : downstream_scores()) items.append(score_item(r, score));
    items.append({number_item(r.average_score, 2), text_item(r.source)});
    if (!r.source.empty()) {  // imported rows: marked, never mistaken for this workspace's runs
        for (auto* item : items) {
            QFont font = item->font();
            font.setItalic(true);
            item->setFont(font);
            item->setToolTip(QObject::tr("Imported from %1").arg(QString::fromStdString(r.source)));
        }
    }
    return items;
}

// Columns where a lower value is better (time, ratio, loss); the scores are better higher.
bool lower_is_better(int column) { return column >= 4 && column <= 8; }

// The best of this workspace's runs in each column (imported rows come from another scale and
// setup, so they are not ranked with them).
void highlight_best(QStandardItemModel* model) {
    const int source_column = model->columnCount() - 1;
    for (int column = 4; column < source_column; ++column) {
        int best = -1;
        for (int row = 0; row < model->rowCount(); ++row) {
            if (!model->item(row, source_column)->text().isEmpty()) continue;
            const QVariant value = model->item(row, column)->data(Qt::UserRole);
            if (!value.isValid()) continue;
            const QVariant current = best < 0 ? QVariant() : model->item(best, column)->data(Qt::UserRole);
            const bool better = !current.isValid() || (lower_is_better(column) ? value.toDouble() < current.toDouble()
                                                                               : value.toDouble() > current.toDouble());
            if (better) best = row;
        }
        if (best < 0) continue;
        QStandardItem* item = model->item(best, column);
        QFont font = item->font();
        font.setBold(true);
        item->setFont(font);
        item->setBackground(QColor(255, 243, 205));
        const QString mark = QObject::tr("Best in this column");
        item->setToolTip(item->toolTip().isEmpty() ? mark : item->toolTip() + "\n" + mark);
    }
}

}  // namespace

ResultsView::ResultsView(QWidget* parent) : QWidget(parent) {
    model_ = new QStandardItemModel(this);
    model_->setHorizontalHeaderLabels({tr("Run"), tr("Pipeline"), tr("Status"), tr("Budget"), tr("Time (h)"),
                                       tr("% of reference"), tr("Valid loss"), tr("Reached ref. loss (h)"),
                                       tr("Reach, % of ref."), tr("KLUE-NLI acc"), tr("KorQuAD ext EM"),
                                       tr("KorQuAD ext F1"), tr("KorQuAD gen EM"), tr("KorQuAD gen F1"),
                                       tr("Summ. Rouge-L F1"), tr("Average"), tr("Source")});
    proxy_ = new QSortFilterProxyModel(this);
    proxy_->setSourceModel(model_);
    proxy_->setSortRole(Qt::UserRole);  // numbers sort as numbers
    proxy_->setFilterKeyColumn(-1);
    proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);
    table_ = new QTableView(this);
    table_->setModel(proxy_);
    table_->setSortingEnabled(true);
    table_->sortByColumn(-1, Qt::AscendingOrder);  // the store's order until a header is clicked
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->verticalHeader()->hide();
    // Columns can be hidden and shown again from the header's context menu.
    table_->horizontalHeader()->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(table_->horizontalHeader(), &QWidget::customContextMenuRequested, this, &ResultsView::showColumnMenu);

    filter_ = new QLineEdit(this);
    filter_->setPlaceholderText(tr("Filter runs (name, pipeline, status…)"));
    filter_->setClearButtonEnabled(true);
    connect(filter_, &QLineEdit::textChanged, proxy_, &QSortFilterProxyModel::setFilterFixedString);
    reference_ = new QLabel(this);
    auto* exportButton = new QPushButton(tr("Export CSV…"), this);
    connect(exportButton, &QPushButton::clicked, this, &ResultsView::chooseExportFile);

    auto* bar = new QHBoxLayout;
    bar->addWidget(filter_, 1);
    bar->addWidget(reference_);
    bar->addWidget(exportButton);
    problem_ = new QLabel(this);
    problem_->setWordWrap(true);
    problem_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    problem_->setStyleSheet(QStringLiteral("color: #b00020"));
    problem_->hide();
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(problem_);
    layout->addWidget(table_);
}

// The table shown before stays when the workspace cannot be read; the message says why.
void ResultsView::load(const std::string& database_path, const std::string& reference_run) {
    database_path_ = database_path;
    reference_run_ = reference_run;
    ResultsTable results;
    try {
        results = readTable();
    } catch (const std::exception& error) {
        showProblem(tr("The workspace cannot be read: %1").arg(QString::fromUtf8(error.what())));
        return;
    }
    showProblem(QString());
    model_->removeRows(0, model_->rowCount());
    for (const ResultsRow& row : results.rows) model_->appendRow(row_items(row));
    highlight_best(model_);
    reference_->setText(results.reference_run.empty()
                            ? tr("No finished Base run to compare with")
                            : tr("Reference: %1 (final valid loss %2)")
                                  .arg(QString::fromStdString(results.reference_run))
                                  .arg(results.reference_loss ? QString::number(*results.reference_loss, 'f', 4) : "?"));
}

bool ResultsView::exportCsv(const QString& path) {
    if (database_path_.empty()) return false;
    try {
        write_file_atomically(path.toStdString(), results_csv(readTable()));
    } catch (const std::exception& error) {
        showProblem(tr("The results could not be exported: %1").arg(QString::fromUtf8(error.what())));
        return false;
    }
    return true;
}

ResultsTable ResultsView::readTable() const {
    Store store(database_path_, SqlAccess::read_only);
    return build_results_table(store, reference_run_);
}

QString ResultsView::problemText() const { return problem_->text(); }

void ResultsView::showProblem(const QString& message) {
    problem_->setText(message);
    problem_->setVisible(!message.isEmpty());
}

void ResultsView::setColumnShown(int column, bool shown) { table_->setColumnHidden(column, !shown); }

void ResultsView::showColumnMenu(const QPoint& position) {
    QMenu menu(this);
    for (int column = 0; column < model_->columnCount(); ++column) {
        QAction* action = menu.addAction(model_->headerData(column, Qt::Horizontal).toString());
        action->setCheckable(true);
        action->setChecked(!table_->isColumnHidden(column));
        connect(action, &QAction::toggled, this, [this, column](bool on) { setColumnShown(column, on); });
    }
    menu.exec(table_->horizontalHeader()->mapToGlobal(position));
}

void ResultsView::chooseExportFile() {
    const QString path = QFileDialog::getSaveFileName(this, tr("Export the results table"), "results.csv", "CSV (*.csv)");
    if (!path.isEmpty()) exportCsv(path);
}

}  // namespace gs::ui
