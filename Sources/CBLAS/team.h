// A team of helper threads that split one packed matrix product by columns, or run shares of
// any task (`deja_team_run`): a large batch's sentences, for instance.
//
// Why: one sentence is a product of some 18 rows per projection, too short for OpenBLAS to
// split well between threads, and handing each of the 24 projections of a sentence to a
// dispatch queue cost more than it saved (the wake-up of a sleeping thread, tens of µs). A team
// keeps its helpers spinning for a short while after each share of work, so that the next
// projection, a few hundred µs later, reaches a thread that is already awake: the hand-off is a
// store and a load. After `DEJA_TEAM_SPIN_NS` without work a helper sleeps on a condition
// variable and costs nothing.
//
// The caller's thread does the first share itself and then waits for the others.

#ifndef DEJA_CBLAS_TEAM_H
#define DEJA_CBLAS_TEAM_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

/// How long a helper keeps looking for its next share before it goes to sleep.
#define DEJA_TEAM_SPIN_NS 300000L

enum { DEJA_SEAT_IDLE = 0, DEJA_SEAT_POSTED = 1, DEJA_SEAT_DONE = 2, DEJA_SEAT_STOP = 3 };

/// One helper thread and the share of a product it is given.
typedef struct deja_seat {
    _Atomic int state;
    _Atomic int sleeping;
    pthread_t thread;
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    // The share: columns [j0, j1) of y = x · W, or, when `task` is set, task(context, index).
    // Written before `state` becomes POSTED.
    void (*task)(void *context, int index);
    void *context;
    int index;
    int level;
    const float *x;
    size_t rows, k, n, j0, j1;
    const float *panels;
    float *y;
} deja_seat;

typedef struct deja_team {
    int helpers;
    deja_seat *seats;
} deja_team;

static inline void deja_team_pause(void) {
#if DEJA_X86_64
    _mm_pause();
#endif
}

static inline long deja_team_elapsed_ns(const struct timespec *from, const struct timespec *to) {
    return (long)(to->tv_sec - from->tv_sec) * 1000000000L + (to->tv_nsec - from->tv_nsec);
}

/// Waits until the seat is given a share or told to stop, spinning first, then sleeping.
static inline int deja_seat_await(deja_seat *s) {
    struct timespec start = {0, 0};
    int timed = 0;
    for (unsigned spins = 1;; spins++) {
        int state = atomic_load_explicit(&s->state, memory_order_acquire);
        if (state == DEJA_SEAT_POSTED || state == DEJA_SEAT_STOP) return state;
        deja_team_pause();
        if ((spins & 255) == 0) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (!timed) {
                start = now;
                timed = 1;
            } else if (deja_team_elapsed_ns(&start, &now) > DEJA_TEAM_SPIN_NS) {
                break;
            }
        }
    }
    pthread_mutex_lock(&s->mutex);
    // Sequentially consistent with `deja_seat_post`: either the poster sees `sleeping` and
    // signals, or this thread sees the new state and does not wait.
    atomic_store(&s->sleeping, 1);
    int state;
    while ((state = atomic_load(&s->state)) != DEJA_SEAT_POSTED && state != DEJA_SEAT_STOP)
        pthread_cond_wait(&s->wake, &s->mutex);
    atomic_store(&s->sleeping, 0);
    pthread_mutex_unlock(&s->mutex);
    return state;
}

static inline void deja_seat_post(deja_seat *s, int state) {
    atomic_store(&s->state, state);
    if (atomic_load(&s->sleeping)) {
        pthread_mutex_lock(&s->mutex);
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->mutex);
    }
}

static void *deja_seat_main(void *arg) {
    deja_seat *s = (deja_seat *)arg;
    while (deja_seat_await(s) == DEJA_SEAT_POSTED) {
        if (s->task)
            s->task(s->context, s->index);
        else
            deja_gemm_packed_columns(s->level, s->x, s->rows, s->k, s->panels, s->n, s->j0, s->j1, s->y);
        atomic_store_explicit(&s->state, DEJA_SEAT_DONE, memory_order_release);
    }
    return NULL;
}

/// Starts a team of `helpers` threads (fewer if the system refuses some; `helpers` of the
/// result says how many). NULL when none could start.
static inline deja_team *deja_team_start(int helpers) {
    if (helpers <= 0) return NULL;
    deja_team *team = (deja_team *)calloc(1, sizeof(deja_team));
    if (!team) return NULL;
    team->seats = (deja_seat *)calloc((size_t)helpers, sizeof(deja_seat));
    if (!team->seats) {
        free(team);
        return NULL;
    }
    for (int i = 0; i < helpers; i++) {
        deja_seat *s = &team->seats[i];
        atomic_init(&s->state, DEJA_SEAT_IDLE);
        atomic_init(&s->sleeping, 0);
        pthread_mutex_init(&s->mutex, NULL);
        pthread_cond_init(&s->wake, NULL);
        if (pthread_create(&s->thread, NULL, deja_seat_main, s) != 0) {
            pthread_mutex_destroy(&s->mutex);
            pthread_cond_destroy(&s->wake);
            break;
        }
#if defined(__linux__) && defined(_GNU_SOURCE)
        pthread_setname_np(s->thread, "deja.minilm.h");
#endif
        team->helpers = i + 1;
    }
    if (team->helpers == 0) {
        free(team->seats);
        free(team);
        return NULL;
    }
    return team;
}

/// Stops and joins the helpers and frees the team.
static inline void deja_team_stop(deja_team *team) {
    if (!team) return;
    for (int i = 0; i < team->helpers; i++) deja_seat_post(&team->seats[i], DEJA_SEAT_STOP);
    for (int i = 0; i < team->helpers; i++) {
        pthread_join(team->seats[i].thread, NULL);
        pthread_mutex_destroy(&team->seats[i].mutex);
        pthread_cond_destroy(&team->seats[i].wake);
    }
    free(team->seats);
    free(team);
}

/// Waits until the first `ways - 1` helpers are done with their shares.
static inline void deja_team_join(deja_team *team, int ways) {
    for (int w = 1; w < ways; w++) {
        deja_seat *s = &team->seats[w - 1];
        for (unsigned spins = 1; atomic_load_explicit(&s->state, memory_order_acquire) != DEJA_SEAT_DONE; spins++) {
            deja_team_pause();
            // A helper the scheduler has put aside: let it run rather than spin against it.
            if ((spins & 1023) == 0) sched_yield();
        }
    }
}

/// `y[rows][n] = x[rows][k] · W` (W packed by `deja_pack_panels`) split by columns into `ways`
/// shares: this thread's and up to `ways - 1` helpers'. Returns 0, having done nothing, when
/// the packed product cannot run (see `deja_gemm_packed_columns`).
static inline int deja_team_gemm_packed(deja_team *team, int ways, int level, const float *x, size_t rows, size_t k,
                                        const float *panels, size_t n, float *y) {
    if (!level || k > 4096 || n % 16 != 0) return 0;
    size_t blocks = n / 16;
    if (!team || ways < 2) return deja_gemm_packed(level, x, rows, k, panels, n, y);
    if (ways > team->helpers + 1) ways = team->helpers + 1;
    if ((size_t)ways > blocks) ways = (int)blocks;
    for (int w = 1; w < ways; w++) {
        deja_seat *s = &team->seats[w - 1];
        s->task = NULL;
        s->level = level;
        s->x = x;
        s->rows = rows;
        s->k = k;
        s->panels = panels;
        s->n = n;
        s->j0 = blocks * (size_t)w / (size_t)ways * 16;
        s->j1 = blocks * (size_t)(w + 1) / (size_t)ways * 16;
        s->y = y;
        deja_seat_post(s, DEJA_SEAT_POSTED);
    }
    int done = deja_gemm_packed_columns(level, x, rows, k, panels, n, 0, blocks / (size_t)ways * 16, y);
    deja_team_join(team, ways);
    return done;
}

/// Runs `task(context, i)` for i in [0, ways): share 0 on this thread, the others on helpers
/// (`ways` is cut to the helpers there are plus one; the return value says how many ran).
/// Returns once every share is done.
static inline int deja_team_run(deja_team *team, int ways, void (*task)(void *context, int index), void *context) {
    if (!team || ways < 2) ways = 1;
    else if (ways > team->helpers + 1) ways = team->helpers + 1;
    for (int w = 1; w < ways; w++) {
        deja_seat *s = &team->seats[w - 1];
        s->task = task;
        s->context = context;
        s->index = w;
        deja_seat_post(s, DEJA_SEAT_POSTED);
    }
    task(context, 0);
    deja_team_join(team, ways);
    return ways;
}

#endif
