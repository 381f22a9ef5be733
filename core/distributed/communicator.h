// Data-parallel training across processes on PyTorch's c10d: a TCPStore for the rendezvous and
// small messages, ProcessGroupGloo (CPU) or ProcessGroupNCCL (CUDA builds that have it) for the
// collectives. This header names no c10d type, so the trainer and the CLI do not compile the
// distributed headers; everything c10d lives in communicator.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace gs {

// The launcher's variables, as torchrun (and --nproc) set them: RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT. A task that srun started without RANK and
// WORLD_SIZE takes its place from Slurm's own variables instead: SLURM_PROCID,
// SLURM_STEP_NUM_TASKS (or SLURM_NTASKS), SLURM_LOCALID, and its node's count (SLURM_NODEID) in
// SLURM_STEP_TASKS_PER_NODE (or SLURM_TASKS_PER_NODE, e.g. "2(x3),1"); MASTER_ADDR must then be
// set (the job script takes the job's first host).
struct DistributedEnvironment {
    int rank = 0;
    int world_size = 1;
    int local_rank = 0;
    int local_world_size = 1;  // LOCAL_WORLD_SIZE: the ranks on this machine
    std::string master_addr = "127.0.0.1";
    int master_port = 29500;

    bool distributed() const { return world_size > 1; }
    // Reads the variables; absent ones keep the single-process defaults. A malformed value, an
    // inconsistent set (RANK >= WORLD_SIZE) or an srun task of several without MASTER_ADDR is
    // an error naming the variable.
    static DistributedEnvironment from_environment();
};

// A peer process stopped during a collective: the message names the rank(s) that did not answer.
class RankFailure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Whether this build can train on `device` ("cpu", "cuda:N") across processes; the reason when not.
bool distributed_backend_available(const std::string& device, std::string* reason = nullptr);

// Averages one step's gradients over the ranks in buckets that are sent while the backward pass
// is still computing the rest, as PyTorch's DistributedDataParallel does. The buckets take the
// parameters in reverse order (about the order autograd finishes them), the first one small so
// that communication starts early; every rank sends them in the same order.
class GradientAverager {
public:
    virtual ~GradientAverager() = default;
    // Parameter `index`'s gradient for this step is complete: it is copied (and converted to the
    // parameters' type) into its bucket, and each bucket whose gradients are all in is sent.
    // Called from the autograd thread, one call at a time.
    virtual void add(size_t index, const at::Tensor& gradient) = 0;
    // Sends the rest, waits for every bucket and replaces each outputs[i] by the mean over the
    // ranks. A parameter whose gradient was not added contributes outputs[i] as it stands.
    virtual void finish(const std::vector<at::Tensor>& outputs) = 0;
    // How many buckets the last step sent before finish(), out of how many.
    virtual size_t buckets_sent_early() const = 0;
    virtual size_t bucket_count() const = 0;
};

class Communicator {
public:
    // Meets the other ranks at the TCPStore (which rank 0 hosts). Only the store's messages and
    // barriers work until start_collectives().
    static std::unique_ptr<Communicator> connect(const DistributedEnvironment& environment);
    virtual ~Communicator() = default;

    // Creates the process group for `device` ("cpu": Gloo; "cuda:N": NCCL), once.
    virtual void start_collectives(const std::string& device) = 0;

    virtual int rank() const = 0;
    virtual int world_size() const = 0;
    virtual int local_rank() const = 0;        // the process's index on its machine
    virtual int local_world_size() const = 0;  // the processes on its machine
    bool leader() const { return rank() == 0; }

    // Replaces every gradient by its mean over the ranks. The gradients travel in buckets of
    // about `bucket_bytes`, all launched before the first is awaited.
    void average_gradients(const std::vector<at::Tensor>& gradients, int64_t bucket_bytes = kGradientBucketBytes);
    // An averager for gradients shaped like `parameters` (their type, shape and device).
    virtual std::unique_ptr<GradientAverager> gradient_averager(const std::vector<at::Tensor>& parameters,
                                                                int64_t bucket_bytes = kGradientBucketBytes) = 0;
    static constexpr int64_t kGradientBucketBytes = 25 << 20;
    // The sum over ranks of each value (a few scalars: losses, flags, timings).
    virtual std::vector<double> sum(const std::vector<double>& values) = 0;
    // True when every rank passed the same value.
    virtual bool all_equal(uint64_t value) = 0;

    // Small messages through the store: rank 0 publishes, every rank reads (blocking until set).
    virtual std::string broadcast_text(const std::string& key, const std::string& value_on_leader) = 0;
    // Every rank waits here until all have arrived (through the store: no time limit, so a
    // long step on one rank, such as preparing the data, does not time the others out).
    virtual void barrier(const std::string& name) = 0;
};

// A 64-bit digest of the tensors' bytes (moved to the CPU): equal on two ranks exactly when
// their parameters are bit for bit the same.
uint64_t tensor_checksum(const std::vector<at::Tensor>& tensors);

}  // namespace gs
