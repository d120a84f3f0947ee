/* place_sct: m-SCT's favourite children from the LP relaxation (GLPK).
 *
 * The LP of Hanen and Munier's small-communication-times algorithm, as
 * Baechi uses it: start times s_v, a makespan w and for every edge (i, j)
 * x_ij in [0, 1], where x_ij = 0 means "j runs right after i on i's device"
 * (no transfer):
 *     minimise w
 *     s_j >= s_i + p_i + c_ij x_ij           every edge
 *     sum_j x_ij >= outdeg(i) - 1            at most one favourite child
 *     sum_i x_ij >= indeg(j) - 1             at most one favourite parent
 *     w >= s_i + p_i                         every node
 * Rounding x_ij < 1/2 to 0 keeps at most one favourite child per node (the
 * sum constraint allows only one x below 1/2).
 *
 * Solved exactly by GLPK's primal simplex from a feasible starting basis
 * (warm_basis): one guessed favourite per node, x = 1 elsewhere, the start
 * times of the longest path.  From there the simplex needs about 500
 * iterations on the fused GNMT LP, against 3500 for the dual simplex from
 * GLPK's standard basis (0.027 s against 0.17 s); the optimum (w) is the
 * same, the vertex reached (hence the favourites) may differ, as the LP has
 * many optimal vertices.  Should that start fail, the dual simplex from the
 * standard basis solves the same LP. */
#include <glpk.h>
#include <stdlib.h>

#include "cs_alloc.h"
#include "place.h"

typedef struct lp_rows {
    int *ia, *ja;
    double *ar;
    int n;
} lp_rows;

static void coef(lp_rows *r, int row, int col, double v)
{
    r->n++;
    r->ia[r->n] = row;
    r->ja[r->n] = col;
    r->ar[r->n] = v;
}

/* A new row with lower bound lo; returns its number. */
static int row_lo(glp_prob *lp, double lo)
{
    int row = glp_add_rows(lp, 1);
    glp_set_row_bnds(lp, row, GLP_LO, lo, 0);
    return row;
}

/* Columns: 1..n starts, n+1..n+m edges, n+m+1 the makespan.  Rows only
 * where they bind: degree sums for degrees above 1, the makespan for sinks. */
static void build_lp(glp_prob *lp, const opgraph *f, const place_spec *s, lp_rows *r,
                     int *sink_row)
{
    int n = f->n, m = f->m, w = n + m + 1;
    glp_set_obj_dir(lp, GLP_MIN);
    glp_add_cols(lp, w);
    for (int v = 1; v <= n; v++)
        glp_set_col_bnds(lp, v, GLP_LO, 0, 0);
    for (int e = 1; e <= m; e++)
        glp_set_col_bnds(lp, n + e, GLP_DB, 0, 1);
    glp_set_col_bnds(lp, w, GLP_LO, 0, 0);
    glp_set_obj_coef(lp, w, 1);
    for (int e = 0; e < m; e++) { /* s_j - s_i - c x >= p_i */
        const opg_edge *ed = &f->edges[e];
        int row = row_lo(lp, f->nodes[ed->src].compute_us);
        coef(r, row, ed->dst + 1, 1);
        coef(r, row, ed->src + 1, -1);
        coef(r, row, n + e + 1, -place_comm_us(s, ed->bytes, ed->ntensors));
    }
    for (int v = 0; v < n; v++) {
        int out = f->out_start[v + 1] - f->out_start[v], in = f->in_start[v + 1] - f->in_start[v];
        if (out > 1) {
            int row = row_lo(lp, out - 1);
            for (int i = f->out_start[v]; i < f->out_start[v + 1]; i++)
                coef(r, row, n + f->out_edge[i] + 1, 1);
        }
        if (in > 1) {
            int row = row_lo(lp, in - 1);
            for (int i = f->in_start[v]; i < f->in_start[v + 1]; i++)
                coef(r, row, n + f->in_edge[i] + 1, 1);
        }
        if (out == 0) { /* w - s_v >= p_v */
            int row = sink_row[v] = row_lo(lp, f->nodes[v].compute_us);
            coef(r, row, w, 1);
            coef(r, row, v + 1, -1);
        }
    }
    glp_load_matrix(lp, r->n, r->ia, r->ja, r->ar);
}

/* A feasible basis to start the primal simplex from.  Each node in
 * topological order guesses one favourite child (x = 0): the child with the
 * dearest transfer among those without a favourite parent yet, so both
 * degree sums hold; every other x sits at its upper bound 1.  The start
 * times are the longest path with those transfers; each non-source s_v is
 * basic through the row of its latest incoming edge (tight, non-basic) and
 * w through the row of the sink that ends last.  Those rows and columns
 * form a triangular matrix (topological order), so the basis is valid, and
 * every row holds: it is primal feasible. */
static void warm_basis(glp_prob *lp, const opgraph *f, const place_spec *sp, const int *sink_row)
{
    int n = f->n, crit = -1;
    double *s = cs_xrealloc(NULL, sizeof *s * (size_t)n);
    double *c = cs_xrealloc(NULL, sizeof *c * (size_t)f->m);
    char *at1 = cs_xrealloc(NULL, (size_t)f->m), *has_parent = cs_xrealloc(NULL, (size_t)n);
    for (int e = 0; e < f->m; e++) {
        at1[e] = 1;
        c[e] = place_comm_us(sp, f->edges[e].bytes, f->edges[e].ntensors);
    }
    for (int v = 0; v < n; v++)
        has_parent[v] = 0;
    for (int k = 0; k < n; k++) {
        int v = f->topo[k], pick = -1;
        for (int i = f->out_start[v]; i < f->out_start[v + 1]; i++) {
            int e = f->out_edge[i];
            if (!has_parent[f->edges[e].dst] && (pick < 0 || c[e] > c[pick]))
                pick = e;
        }
        if (pick >= 0) {
            at1[pick] = 0;
            has_parent[f->edges[pick].dst] = 1;
        }
    }
    double end = -1;
    for (int k = 0; k < n; k++) {
        int v = f->topo[k], tight = -1;
        s[v] = 0;
        for (int i = f->in_start[v]; i < f->in_start[v + 1]; i++) {
            int e = f->in_edge[i], u = f->edges[e].src;
            double t = s[u] + f->nodes[u].compute_us + (at1[e] ? c[e] : 0);
            if (tight < 0 || t > s[v]) {
                s[v] = t;
                tight = e;
            }
        }
        glp_set_col_stat(lp, v + 1, tight < 0 ? GLP_NL : GLP_BS);
        if (tight >= 0)
            glp_set_row_stat(lp, tight + 1, GLP_NL);
        if (sink_row[v] > 0 && s[v] + f->nodes[v].compute_us > end) {
            end = s[v] + f->nodes[v].compute_us;
            crit = v;
        }
    }
    for (int e = 0; e < f->m; e++)
        glp_set_col_stat(lp, n + e + 1, at1[e] ? GLP_NU : GLP_NL);
    glp_set_col_stat(lp, n + f->m + 1, GLP_BS);
    glp_set_row_stat(lp, sink_row[crit], GLP_NL);
    free(s);
    free(c);
    free(at1);
    free(has_parent);
}

int place_sct_favourites(const opgraph *f, const place_spec *s, int *fav, cs_err *err)
{
    for (int v = 0; v < f->n; v++)
        fav[v] = -1;
    if (f->m == 0)
        return 0;
    if ((long)f->n + f->m > PLACE_SCT_MAX_LP)
        return cs_fail(err, "m-SCT: the LP relaxation of %d fused nodes and %d edges is beyond its "
                       "limit of %ld nodes and edges together (the simplex grows faster than the "
                       "graph): use the etf or topo algorithm",
                       f->n, f->m, (long)PLACE_SCT_MAX_LP);
    size_t nz = 3 * (size_t)f->m + 2 * (size_t)f->m + 2 * (size_t)f->n + 2;
    lp_rows r = {cs_xrealloc(NULL, nz * sizeof(int)), cs_xrealloc(NULL, nz * sizeof(int)),
                 cs_xrealloc(NULL, nz * sizeof(double)), 0};
    glp_prob *lp = glp_create_prob();
    int *sink_row = cs_xrealloc(NULL, sizeof *sink_row * (size_t)f->n);
    for (int v = 0; v < f->n; v++)
        sink_row[v] = 0;
    build_lp(lp, f, s, &r, sink_row);
    warm_basis(lp, f, s, sink_row);
    free(sink_row);
    glp_smcp parm;
    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    parm.meth = GLP_PRIMAL; /* from the feasible start: 7x fewer iterations than the dual */
    int rc = glp_simplex(lp, &parm);
    if (rc != 0 || glp_get_status(lp) != GLP_OPT) { /* the standard basis and the dual */
        glp_std_basis(lp);
        parm.meth = GLP_DUALP;
        rc = glp_simplex(lp, &parm);
    }
    if (rc != 0 || glp_get_status(lp) != GLP_OPT)
        rc = cs_fail(err, "m-SCT: GLPK did not solve the LP relaxation (glp_simplex %d, "
                     "status %d)", rc, glp_get_status(lp));
    for (int v = 0; rc == 0 && v < f->n; v++) {
        double lowest = 0.5;
        for (int i = f->out_start[v]; i < f->out_start[v + 1]; i++) {
            double x = glp_get_col_prim(lp, f->n + f->out_edge[i] + 1);
            if (x < lowest) {
                lowest = x;
                fav[v] = f->edges[f->out_edge[i]].dst;
            }
        }
    }
    glp_delete_prob(lp);
    free(r.ia);
    free(r.ja);
    free(r.ar);
    return rc;
}
