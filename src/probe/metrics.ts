/**
 * Classification metrics over score rows (logits, or label-space pooled scores), accumulated block by block
 * so that an evaluation set never has to be in memory at once.
 *
 * Ties are broken toward the lower class index everywhere (argmax, and the rank used for top-5), so that
 * top-1 agrees with argmax and results do not depend on block boundaries.
 */

export interface ClassificationMetrics {
  /** Rows scored. */
  n: number;
  /** Fractions in [0, 1]. */
  top1: number;
  /** Top-min(5, classes) accuracy. */
  top5: number;
  topK: number;
  /** Mean cross-entropy of softmax(scores) (natural log). */
  meanLoss: number;
  /** Per class: accuracy (null when the class has no rows) and row count. */
  perClassAccuracy: (number | null)[];
  perClassCount: number[];
  /** Mean of the per-class accuracies over classes with rows (balanced accuracy). */
  meanPerClassAccuracy: number;
}

export class MetricsAccumulator {
  private n = 0;
  private hit1 = 0;
  private hitK = 0;
  private lossSum = 0;
  private readonly correct: Float64Array;
  private readonly count: Float64Array;
  readonly topK: number;

  constructor(
    readonly numClasses: number,
    topK = 5,
  ) {
    this.topK = Math.min(topK, numClasses);
    this.correct = new Float64Array(numClasses);
    this.count = new Float64Array(numClasses);
  }

  /**
   * Adds `rows` rows of scores [rows, numClasses]; labels[i] < 0 marks a row that is not scored.
   * Writes per-row predictions into `predictions` (length rows) and softmax probabilities into `probs`
   * ([rows, numClasses]) when given.
   */
  add(
    scores: Float32Array,
    rows: number,
    labels: Int32Array,
    predictions?: Int32Array,
    confidence?: Float32Array,
    probs?: Float32Array,
  ): void {
    const E = this.numClasses;
    for (let i = 0; i < rows; i++) {
      const off = i * E;
      let best = 0,
        mx = scores[off]!;
      for (let c = 1; c < E; c++) {
        const v = scores[off + c]!;
        if (v > mx) {
          mx = v;
          best = c;
        }
      }
      let se = 0;
      for (let c = 0; c < E; c++) se += Math.exp(scores[off + c]! - mx);
      if (predictions) predictions[i] = best;
      if (confidence) confidence[i] = 1 / se;
      if (probs) for (let c = 0; c < E; c++) probs[off + c] = Math.exp(scores[off + c]! - mx) / se;
      const y = labels[i]!;
      if (y < 0) continue;
      if (y >= E) throw new RangeError(`label ${y} out of range for ${E} classes`);
      const sy = scores[off + y]!;
      let rank = 0;
      for (let c = 0; c < E; c++) {
        const v = scores[off + c]!;
        if (v > sy || (v === sy && c < y)) rank++;
      }
      this.n++;
      this.count[y]!++;
      if (rank === 0) {
        this.hit1++;
        this.correct[y]!++;
      }
      if (rank < this.topK) this.hitK++;
      this.lossSum += mx + Math.log(se) - sy;
    }
  }

  result(): ClassificationMetrics {
    const perClassAccuracy: (number | null)[] = [];
    const perClassCount: number[] = [];
    let sum = 0,
      m = 0;
    for (let c = 0; c < this.numClasses; c++) {
      const cnt = this.count[c]!;
      perClassCount.push(cnt);
      if (cnt > 0) {
        const a = this.correct[c]! / cnt;
        perClassAccuracy.push(a);
        sum += a;
        m++;
      } else perClassAccuracy.push(null);
    }
    const n = this.n;
    return {
      n,
      top1: n ? this.hit1 / n : NaN,
      top5: n ? this.hitK / n : NaN,
      topK: this.topK,
      meanLoss: n ? this.lossSum / n : NaN,
      perClassAccuracy,
      perClassCount,
      meanPerClassAccuracy: m ? sum / m : NaN,
    };
  }
}

/** Accuracy of argmax(scores) against labels (all rows scored). */
export function topOneAccuracy(scores: Float32Array, rows: number, numClasses: number, labels: Int32Array): number {
  const acc = new MetricsAccumulator(numClasses, 1);
  acc.add(scores, rows, labels);
  return acc.result().top1;
}

/**
 * Chance top-k over `classes` scored classes: a uniform guess of k distinct classes holds the label with
 * probability min(k, classes) / classes. Top-5 on 7 classes is 71% by chance, so an @5 figure is shown beside it.
 */
export function chanceAtK(classes: number, k = 5): number {
  return classes > 0 ? Math.min(k, classes) / classes : NaN;
}

/**
 * Top-5 is left out of headlines (and its teacher-student gap is not shown) where chance@5 reaches this: with
 * 10 or fewer classes half of all guesses already count, and a top-5 gap says little about the representation.
 */
export const TOP5_HEADLINE_MAX_CHANCE = 0.5;
