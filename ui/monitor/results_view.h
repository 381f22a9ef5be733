// The results table: one row per run with the study's Table 2 columns, the ratio of its time to
// the reference run's, and when it first reached the reference's final validation loss.
// Sortable, filterable, exported as CSV.
#pragma once

#include <QWidget>

#include <string>

#include "core/store/results_table.h"

class QLineEdit;
class QLabel;
class QSortFilterProxyModel;
class QStandardItemModel;
class QTableView;

namespace gs::ui {

class ResultsView : public QWidget {
    Q_OBJECT
public:
    explicit ResultsView(QWidget* parent = nullptr);

    // Reads the table from the workspace database. One that cannot be read keeps the table shown
    // before and says why above it (problemText()).
    void load(const std::string& database_path, const std::string& reference_run = "");
    bool exportCsv(const QString& path);  // false, and the reason shown, when it cannot be written
    void setColumnShown(int column, bool shown);

    QTableView* table() const { return table_; }
    QLineEdit* filter() const { return filter_; }
    QSortFilterProxyModel* proxy() const { return proxy_; }
    QString problemText() const;

private:
    ResultsTable readTable() const;
    void showProblem(const QString& message);  // "" hides the line
    void chooseExportFile();
    void showColumnMenu(const QPoint& position);

    std::string database_path_;
    std::string reference_run_;
    QStandardItemModel* model_ = nullptr;
    QSortFilterProxyModel* proxy_ = nullptr;
    QTableView* table_ = nullptr;
    QLineEdit* filter_ = nullptr;
    QLabel* reference_ = nullptr;
    QLabel* problem_ = nullptr;
};

}  // namespace gs::ui
