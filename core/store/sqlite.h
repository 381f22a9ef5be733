// A thin RAII layer over the SQLite C API: a connection, prepared statements with bound
// parameters, and transactions. Errors throw StoreError with the database file's name.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace gs {

class StoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// NULL, integer, real or text.
using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;

class SqlStatement;

// How a connection may use its file. `read_only` never writes it (nor changes its journal mode)
// and waits at most a moment for a lock, for files another process writes on a shared file system.
enum class SqlAccess { read_write, read_only };

// How long a writing connection waits for another's lock.
constexpr int kWriterBusyTimeoutMs = 10000;

class SqlDatabase {
public:
    // Opens (creating when `create`) the file; WAL journal and a busy timeout so that several
    // processes can read and write at once.
    SqlDatabase(const std::string& path, bool create, SqlAccess access = SqlAccess::read_write);
    ~SqlDatabase();
    SqlDatabase(const SqlDatabase&) = delete;
    SqlDatabase& operator=(const SqlDatabase&) = delete;

    const std::string& path() const { return path_; }
    // How long a statement waits for another connection's lock before it fails.
    void wait_when_busy(int milliseconds);
    void execute(const std::string& sql);  // one or more statements, no parameters
    SqlStatement prepare(const std::string& sql);
    int64_t last_insert_id() const;
    [[noreturn]] void fail(const std::string& what) const;

private:
    void switch_to_wal();

    std::string path_;
    sqlite3* db_ = nullptr;
};

class SqlStatement {
public:
    SqlStatement(SqlDatabase& database, sqlite3_stmt* statement) : database_(&database), statement_(statement) {}
    ~SqlStatement();
    SqlStatement(SqlStatement&& other) noexcept;
    SqlStatement(const SqlStatement&) = delete;
    SqlStatement& operator=(const SqlStatement&) = delete;
    SqlStatement& operator=(SqlStatement&&) = delete;

    SqlStatement& bind(const std::vector<SqlValue>& values);
    bool step();  // true while a row is available
    void run();   // steps to the end, then resets for reuse
    void reset();

    int64_t integer(int column) const;
    double real(int column) const;
    std::string text(int column) const;
    bool is_null(int column) const;
    std::optional<double> optional_real(int column) const;

    // The index of the result column called `name`, so that rows are read by name rather than
    // by position: a plain column of one table is named as in the table; give an expression, or
    // a column of a join, an alias (AS), the one name SQLite promises. A StoreError naming it
    // when the statement has no such column. The names are read once per statement.
    int column(const std::string& name) const;
    int64_t integer(const std::string& name) const { return integer(column(name)); }
    double real(const std::string& name) const { return real(column(name)); }
    std::string text(const std::string& name) const { return text(column(name)); }
    bool is_null(const std::string& name) const { return is_null(column(name)); }
    std::optional<double> optional_real(const std::string& name) const { return optional_real(column(name)); }

private:
    SqlDatabase* database_;
    sqlite3_stmt* statement_;
    mutable std::vector<std::string> column_names_;  // read on the first lookup by name
};

// BEGIN IMMEDIATE ... COMMIT; rolls back when destroyed without commit().
class SqlTransaction {
public:
    explicit SqlTransaction(SqlDatabase& database);
    ~SqlTransaction();
    void commit();

private:
    SqlDatabase& database_;
    bool open_ = true;
};

}  // namespace gs
