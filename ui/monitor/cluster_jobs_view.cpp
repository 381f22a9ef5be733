#include "ui/monitor/cluster_jobs_view.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

#include "core/cluster/slurm.h"
#include "core/store/store.h"

namespace gs::ui {

namespace {

enum Column { kJob, kRun, kState, kStep, kAfter, kSubmitted, kDetail, kColumns };

QTableWidgetItem* cell(const std::string& text) {
    auto* item = new QTableWidgetItem(QString::fromStdString(text));
    item->setFlags(item->flags() & ~Qt::ItemIsEditable);
    return item;
}

}  // namespace

ClusterJobsView::ClusterJobsView(QWidget* parent) : QWidget(parent) {
    table_ = new QTableWidget(0, kColumns, this);
    table_->setHorizontalHeaderLabels({tr("Job"), tr("Run"), tr("State"), tr("Step"), tr("After jobs"), tr("Submitted"),
                                       tr("Detail")});
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->verticalHeader()->hide();
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    sync_ = new QPushButton(tr("Sync"), this);
    sync_->setToolTip(tr("Read the jobs' databases and merge finished runs into the workspace"));
    summary_ = new QLabel(this);
    auto* bar = new QHBoxLayout;
    bar->addWidget(summary_, 1);
    bar->addWidget(sync_);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(table_);
    timer_ = new QTimer(this);
    timer_->setInterval(30000);
    connect(timer_, &QTimer::timeout, this, &ClusterJobsView::refresh);
    connect(sync_, &QPushButton::clicked, this, &ClusterJobsView::refresh);
    connect(table_, &QTableWidget::cellDoubleClicked, this, [this](int row, int) {
        if (const QTableWidgetItem* run = table_->item(row, kRun)) emit runActivated(run->text());
    });
}

void ClusterJobsView::load(const std::string& database_path) {
    database_path_ = database_path;
    refresh();
    timer_->start();
}

void ClusterJobsView::refresh() {
    if (database_path_.empty()) return;
    std::vector<ClusterJobStatus> jobs;
    int merged_before = 0;
    try {
        Store store(database_path_);
        for (const auto& job : store.cluster_jobs()) merged_before += job.state == "merged";
        jobs = sync_cluster_jobs(store);
    } catch (const std::exception& error) {
        summary_->setText(tr("Cluster jobs: %1").arg(QString::fromUtf8(error.what())));
        return;
    }
    table_->setRowCount(static_cast<int>(jobs.size()));
    int merged = 0;
    for (int row = 0; row < static_cast<int>(jobs.size()); ++row) {
        const ClusterJobStatus& s = jobs[row];
        merged += s.state == "merged";
        table_->setItem(row, kJob, cell(s.job.job_id));
        table_->setItem(row, kRun, cell(s.job.run_name));
        table_->setItem(row, kState, cell(s.state));
        table_->setItem(row, kStep, cell(std::to_string(s.step)));
        table_->setItem(row, kAfter, cell(s.job.depends_on));
        table_->setItem(row, kSubmitted, cell(s.job.submitted_at));
        table_->setItem(row, kDetail, cell(s.detail));
    }
    summary_->setText(tr("%n cluster job(s), %1 merged", nullptr, static_cast<int>(jobs.size())).arg(merged));
    if (merged > merged_before) emit runsMerged();
}

}  // namespace gs::ui
