#include "core/store/sqlite.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <utility>

#include <sqlite3.h>

namespace gs {

namespace {

// The name SQLite opens. A reader of a WAL database needs its -shm file, which SQLite cannot
// create in a folder the user may not write. With no -wal file there is nothing to read beyond
// the main file, and nobody can add one in that folder: the file is then opened as immutable.
std::string name_to_open(const std::string& path, bool read_only, int& flags) {
    const std::string folder = std::filesystem::path(path).parent_path().string();
    if (!read_only || ::access(folder.empty() ? "." : folder.c_str(), W_OK) == 0 || std::filesystem::exists(path + "-wal")) {
        return path;
    }
    std::string uri = "file:";
    for (const char c : path) {
        if (c == '%' || c == '?' || c == '#') {
            char escaped[4];
            std::snprintf(escaped, sizeof escaped, "%%%02X", static_cast<unsigned char>(c));
            uri += escaped;
        } else {
            uri += c;
        }
    }
    flags |= SQLITE_OPEN_URI;
    return uri + "?immutable=1";
}

}  // namespace

SqlDatabase::SqlDatabase(const std::string& path, bool create, SqlAccess access) : path_(path) {
    const bool read_only = access == SqlAccess::read_only;
    int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | (create ? SQLITE_OPEN_CREATE : 0) |
                SQLITE_OPEN_FULLMUTEX;
    const std::string name = name_to_open(path, read_only, flags);
    if (sqlite3_open_v2(name.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
        const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw StoreError(path + ": cannot open the database: " + message);
    }
    // A reader of someone else's file gives up soon: the caller tries again later.
    wait_when_busy(read_only ? 250 : kWriterBusyTimeoutMs);
    if (read_only) return;
    execute("PRAGMA foreign_keys = ON");
    // A database someone else made read-only, or a file that is not a database, fails here,
    // before anything is written.
    switch_to_wal();
    execute("PRAGMA synchronous = NORMAL");
}

SqlDatabase::~SqlDatabase() { sqlite3_close_v2(db_); }

// The switch needs the file alone. While another connection is creating the same new file, SQLite
// answers "locked" at once rather than after the busy timeout (a lock upgrade that could
// deadlock), so the switch is tried again for as long as that timeout.
void SqlDatabase::switch_to_wal() {
    for (int waited_ms = 0;; waited_ms += 20) {
        try {
            execute("PRAGMA journal_mode = WAL");
            return;
        } catch (const StoreError&) {
            if (sqlite3_errcode(db_) != SQLITE_BUSY || waited_ms >= kWriterBusyTimeoutMs) throw;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void SqlDatabase::wait_when_busy(int milliseconds) { sqlite3_busy_timeout(db_, milliseconds); }

void SqlDatabase::fail(const std::string& what) const {
    throw StoreError(path_ + ": " + what + ": " + sqlite3_errmsg(db_));
}

void SqlDatabase::execute(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
        const std::string message = error ? error : sqlite3_errmsg(db_);
        sqlite3_free(error);
        throw StoreError(path_ + ": " + message);
    }
}

SqlStatement SqlDatabase::prepare(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) fail("cannot prepare '" + sql + "'");
    return SqlStatement(*this, statement);
}

int64_t SqlDatabase::last_insert_id() const { return sqlite3_last_insert_rowid(db_); }

SqlStatement::~SqlStatement() {
    if (statement_) sqlite3_finalize(statement_);
}

SqlStatement::SqlStatement(SqlStatement&& other) noexcept
    : database_(other.database_), statement_(other.statement_), column_names_(std::move(other.column_names_)) {
    other.statement_ = nullptr;
}

SqlStatement& SqlStatement::bind(const std::vector<SqlValue>& values) {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
    for (size_t i = 0; i < values.size(); ++i) {
        const int index = static_cast<int>(i) + 1;
        const SqlValue& value = values[i];
        int code = SQLITE_OK;
        if (const auto* integer = std::get_if<int64_t>(&value)) {
            code = sqlite3_bind_int64(statement_, index, *integer);
        } else if (const auto* real = std::get_if<double>(&value)) {
            code = sqlite3_bind_double(statement_, index, *real);
        } else if (const auto* text = std::get_if<std::string>(&value)) {
            code = sqlite3_bind_text(statement_, index, text->c_str(), static_cast<int>(text->size()), SQLITE_TRANSIENT);
        } else {
            code = sqlite3_bind_null(statement_, index);
        }
        if (code != SQLITE_OK) database_->fail("cannot bind parameter " + std::to_string(index));
    }
    return *this;
}

bool SqlStatement::step() {
    const int code = sqlite3_step(statement_);
    if (code == SQLITE_ROW) return true;
    if (code == SQLITE_DONE) return false;
    database_->fail("statement failed");
}

void SqlStatement::run() {
    while (step()) {
    }
    reset();
}

void SqlStatement::reset() { sqlite3_reset(statement_); }

int64_t SqlStatement::integer(int column) const { return sqlite3_column_int64(statement_, column); }
double SqlStatement::real(int column) const { return sqlite3_column_double(statement_, column); }
bool SqlStatement::is_null(int column) const { return sqlite3_column_type(statement_, column) == SQLITE_NULL; }

std::string SqlStatement::text(int column) const {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement_, column));
    return text ? std::string(text, sqlite3_column_bytes(statement_, column)) : std::string();
}

std::optional<double> SqlStatement::optional_real(int column) const {
    if (is_null(column)) return std::nullopt;
    return real(column);
}

int SqlStatement::column(const std::string& name) const {
    if (column_names_.empty()) {
        for (int i = 0; i < sqlite3_column_count(statement_); ++i) column_names_.emplace_back(sqlite3_column_name(statement_, i));
    }
    for (size_t i = 0; i < column_names_.size(); ++i) {
        if (column_names_[i] == name) return static_cast<int>(i);
    }
    throw StoreError(database_->path() + ": no column '" + name + "' in '" + sqlite3_sql(statement_) + "'");
}

SqlTransaction::SqlTransaction(SqlDatabase& database) : database_(database) { database_.execute("BEGIN IMMEDIATE"); }

SqlTransaction::~SqlTransaction() {
    if (!open_) return;
    try {
        database_.execute("ROLLBACK");
    } catch (...) {  // a failed rollback leaves SQLite to roll back on close
    }
}

void SqlTransaction::commit() {
    database_.execute("COMMIT");
    open_ = false;
}

}  // namespace gs
