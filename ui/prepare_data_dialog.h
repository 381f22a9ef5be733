// Prepares a pre-training corpus as `growthstudio-cli prepare` does: corpus files, tokenizer
// (trained or loaded), the tokenized cache and the span-corruption settings, with progress, an
// ETA and cancellation. The work runs on a background thread.
#pragma once

#include <QDialog>

#include <atomic>
#include <thread>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QRadioButton;
class QSpinBox;

namespace gs {
struct Progress;
}

namespace gs::ui {

struct PrepareRequest;

class PrepareDataDialog : public QDialog {
    Q_OBJECT
public:
    explicit PrepareDataDialog(QWidget* parent = nullptr);
    ~PrepareDataDialog() override;

    // For tests and scripted use.
    void setCorpus(const QStringList& paths);
    void setOutputFolder(const QString& path);
    void setTrainedVocabulary(int pieces);
    void setInputLength(int tokens);
    QString spanSummary() const;
    QString report() const;
    bool isRunning() const { return running_; }
    QPushButton* startButton() const { return start_; }
    QPushButton* cancelButton() const { return cancel_; }

signals:
    void preparationFinished(bool ok);

private:
    QWidget* buildCorpusBox();
    QWidget* buildTokenizerBox();
    QWidget* buildBatchBox();
    QWidget* buildRunBox();
    void addFiles();
    void addFolder();
    void updateSpanSummary();
    PrepareRequest requestFromForm() const;
    void start();
    void run(const PrepareRequest& request);
    void showProgress(const Progress& progress);
    void finish(bool ok, const QString& text);

    QListWidget* corpus_ = nullptr;
    QComboBox* layout_ = nullptr;
    QLineEdit* json_field_ = nullptr;
    QComboBox* bad_input_ = nullptr;
    QRadioButton* train_ = nullptr;
    QSpinBox* vocab_ = nullptr;
    QLineEdit* model_path_ = nullptr;
    QLineEdit* out_dir_ = nullptr;
    QSpinBox* input_length_ = nullptr;
    QDoubleSpinBox* noise_density_ = nullptr;
    QDoubleSpinBox* mean_span_ = nullptr;
    QLabel* span_summary_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QLabel* status_ = nullptr;
    QPlainTextEdit* report_ = nullptr;
    QPushButton* start_ = nullptr;
    QPushButton* cancel_ = nullptr;

    std::thread worker_;
    std::atomic<bool> cancel_requested_{false};
    bool running_ = false;
};

}  // namespace gs::ui
