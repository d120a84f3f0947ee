/* layout_stages: how the transformer layers are split over the pipeline
 * stages, evenly or unevenly (issue 18).
 *
 * Megatron-Core's uneven split (--decoder-first-pipeline-num-layers F,
 * --decoder-last-pipeline-num-layers L; TransformerConfig's
 * num_layers_in_first/last_pipeline_stage): pipeline stage 0 holds F
 * layers, stage pp - 1 holds L, and the remaining layers split evenly over
 * the stages left (megatron/core/transformer/transformer_block.py,
 * get_num_layers_to_build: "the left over layers must be divisible by
 * left over stages").  Either may be given alone; the other edge stage is
 * then a middle one.  With virtual stages every stage's count is split over
 * its vpp chunks, so each must be divisible by vpp (TransformerConfig:
 * "number of layers at first stage ... must be divisible by virtual
 * pipeline parallel degree").  Llama 3 405B trained so: 126 layers on pp 16
 * with one layer fewer on the first and last stage, 7 + 14 x 8 + 7
 * (Dubey et al. 2024, sec. 3.3.2).
 *
 * A stage here is a model position (schedule_position's stage): under
 * 1F1B and interleaving pipeline rank s; under dualpipe rank r holds
 * stages r and pp - 1 - r (so rank 0 holds both F and L layers); under
 * the V-shapes rank r holds chunk 0 of stage r and chunk 1 of stage
 * pp - 1 - r.
 * Model order of the chunks: chunk c of stage s starts after all of chunk
 * c - 1 of every stage and chunk c of stages 0..s-1 (Megatron's
 * interleaved layer offset).
 *
 * Rules (layout_stage_rules; layout_validate applies them): F and L >= 0;
 * set only with pp >= 2; F + L <= layers; the middle stages' layers
 * divisible by the middle stages and at least one each; with no middle
 * stage (pp 2, both set) F + L = layers; every stage's count divisible by
 * vpp; without F and L, layers divisible by pp x vpp (the even split).
 * Each message names the rule, the values and the nearest valid ones. */
#ifndef CS_LAYOUT_STAGES_H
#define CS_LAYOUT_STAGES_H

#include "cs_error.h"
#include "layout.h"

/* layout.h declares the part layout.c uses: layout_is_uneven,
 * layout_max_stage_layers, layout_stage_rules, layout_stage_split_hint. */

/* Layers of pipeline stage `stage` (all its chunks) and of each of its
 * chunks (that / vpp), of a layout whose split is valid. */
int layout_stage_layers(const layout_desc *l, const model_desc *m, int stage);
int layout_stage_chunk_layers(const layout_desc *l, const model_desc *m, int stage);
/* Model-order index of the first layer of chunk `chunk` of stage `stage`. */
int layout_chunk_first_layer(const layout_desc *l, const model_desc *m, int stage, int chunk);

/* The split a search uses where pp x vpp does not divide the layers: the
 * middle stages get the fewest layers M (a multiple of vpp) that leaves
 * F + L = layers - (pp - 2) M with vpp <= F, L <= M, F and L multiples of
 * vpp; F and L as equal as they can be, the first one more (the last stage
 * also computes the output layer and the loss).  126 layers, pp 16: 7 and
 * 7, middle 8.  Sets *first and *last (0 and 0 for the even split) and
 * returns 0, or -1 when no split exists. */
int layout_stage_auto_split(int layers, int pp, int vpp, int *first, int *last);

#endif
