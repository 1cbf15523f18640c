//! The Whisper network in candle, loaded straight from a CTranslate2 Whisper model (the layout
//! faster-whisper ships): the encoder over a 30 s log-mel window, and a decoder that keeps the
//! keys and values of every earlier token (self-attention) and of the encoder output
//! (cross-attention), so each new token costs one position, not the whole prefix again.
//! CTranslate2 fuses the self-attention query/key/value projections into one matrix; the model
//! keeps them fused (one matrix product instead of three) and splits the result.

use candle_core::{D, DType, Device, Module, Tensor};
use candle_nn::{Conv1d, Conv1dConfig, LayerNorm, Linear};

use super::ct2::Ct2Model;

type Result<T> = std::result::Result<T, String>;

fn ce(e: candle_core::Error) -> String {
    e.to_string()
}

/// The sizes of a Whisper model, read from its weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dims {
    pub n_mels: usize,
    pub n_state: usize,
    pub n_vocab: usize,
    pub encoder_layers: usize,
    pub decoder_layers: usize,
    pub encoder_heads: usize,
    pub decoder_heads: usize,
    /// Encoder positions (1500 for 30 s) and decoder positions (448).
    pub audio_ctx: usize,
    pub text_ctx: usize,
}

struct Weights<'a>(&'a Ct2Model);

impl Weights<'_> {
    fn get(&self, name: &str) -> Result<Tensor> {
        self.0
            .tensor(name)
            .cloned()
            .ok_or_else(|| format!("the model has no variable {name}"))
    }

    fn linear(&self, prefix: &str) -> Result<Linear> {
        Ok(Linear::new(
            self.get(&format!("{prefix}/weight"))?,
            Some(self.get(&format!("{prefix}/bias"))?),
        ))
    }

    fn norm(&self, prefix: &str) -> Result<LayerNorm> {
        Ok(LayerNorm::new(
            self.get(&format!("{prefix}/gamma"))?,
            self.get(&format!("{prefix}/beta"))?,
            1e-5,
        ))
    }

    fn conv(&self, prefix: &str, stride: usize) -> Result<Conv1d> {
        let config = Conv1dConfig {
            padding: 1,
            stride,
            dilation: 1,
            groups: 1,
            cudnn_fwd_algo: None,
        };
        Ok(Conv1d::new(
            self.get(&format!("{prefix}/weight"))?,
            Some(self.get(&format!("{prefix}/bias"))?),
            config,
        ))
    }

    fn count_layers(&self, prefix: &str) -> usize {
        (0..)
            .take_while(|i| {
                self.0
                    .tensors
                    .contains_key(&format!("{prefix}/layer_{i}/ffn/linear_0/weight"))
            })
            .count()
    }

    fn heads(&self, prefix: &str) -> Result<usize> {
        match self.0.scalars.get(&format!("{prefix}/num_heads")) {
            Some(h) if *h > 0 => Ok(*h as usize),
            _ => Err(format!("the model has no {prefix}/num_heads")),
        }
    }
}

/// Splits the last dimension into heads: (b, t, n) → (b, heads, t, n / heads), contiguous.
fn split_heads(x: &Tensor, heads: usize) -> candle_core::Result<Tensor> {
    let (b, t, n) = x.dims3()?;
    x.reshape((b, t, heads, n / heads))?
        .transpose(1, 2)?
        .contiguous()
}

/// Scaled dot-product attention over heads already split; returns (b, tq, n).
fn attend(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: Option<&Tensor>,
) -> candle_core::Result<Tensor> {
    let d = q.dim(D::Minus1)?;
    let q = (q * (1.0 / (d as f64).sqrt()))?;
    let mut w = q.matmul(&k.t()?)?;
    if let Some(m) = mask {
        w = w.broadcast_add(m)?;
    }
    let w = candle_nn::ops::softmax_last_dim(&w)?;
    let out = w.matmul(v)?;
    let (b, h, t, d) = out.dims4()?;
    out.transpose(1, 2)?.reshape((b, t, h * d))
}

struct SelfAttention {
    norm: LayerNorm,
    qkv: Linear,
    out: Linear,
}

struct CrossAttention {
    norm: LayerNorm,
    q: Linear,
    kv: Linear,
    out: Linear,
}

struct Mlp {
    norm: LayerNorm,
    fc1: Linear,
    fc2: Linear,
}

impl Mlp {
    fn load(w: &Weights, prefix: &str) -> Result<Mlp> {
        Ok(Mlp {
            norm: w.norm(&format!("{prefix}/ffn/layer_norm"))?,
            fc1: w.linear(&format!("{prefix}/ffn/linear_0"))?,
            fc2: w.linear(&format!("{prefix}/ffn/linear_1"))?,
        })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let h = self
            .fc2
            .forward(&self.fc1.forward(&self.norm.forward(x)?)?.gelu_erf()?)?;
        x + h
    }
}

impl SelfAttention {
    fn load(w: &Weights, prefix: &str) -> Result<SelfAttention> {
        Ok(SelfAttention {
            norm: w.norm(&format!("{prefix}/self_attention/layer_norm"))?,
            qkv: w.linear(&format!("{prefix}/self_attention/linear_0"))?,
            out: w.linear(&format!("{prefix}/self_attention/linear_1"))?,
        })
    }

    /// Returns the new hidden states and this step's keys and values (split into heads).
    fn project(&self, x: &Tensor, heads: usize) -> candle_core::Result<(Tensor, Tensor, Tensor)> {
        let qkv = self.qkv.forward(&self.norm.forward(x)?)?;
        let n = qkv.dim(D::Minus1)? / 3;
        let q = split_heads(&qkv.narrow(D::Minus1, 0, n)?, heads)?;
        let k = split_heads(&qkv.narrow(D::Minus1, n, n)?, heads)?;
        let v = split_heads(&qkv.narrow(D::Minus1, 2 * n, n)?, heads)?;
        Ok((q, k, v))
    }
}

struct EncoderLayer {
    attn: SelfAttention,
    mlp: Mlp,
}

struct DecoderLayer {
    attn: SelfAttention,
    cross: CrossAttention,
    mlp: Mlp,
}

pub struct Whisper {
    pub dims: Dims,
    conv1: Conv1d,
    conv2: Conv1d,
    encoder_positions: Tensor,
    encoder: Vec<EncoderLayer>,
    encoder_norm: LayerNorm,
    embeddings: Tensor,
    decoder_positions: Tensor,
    decoder: Vec<DecoderLayer>,
    decoder_norm: LayerNorm,
    device: Device,
}

/// A decoder's memory for one window: cross-attention keys/values of the encoder output and
/// self-attention keys/values of the tokens so far, per layer.
pub struct DecoderState {
    cross: Vec<(Tensor, Tensor)>,
    past: Vec<Option<(Tensor, Tensor)>>,
    pub len: usize,
}

impl Whisper {
    pub fn load(model: &Ct2Model, device: &Device) -> Result<Whisper> {
        if model.spec != "WhisperSpec" {
            return Err(format!(
                "the model is a {}, not a Whisper model",
                model.spec
            ));
        }
        let w = Weights(model);
        let embeddings = w.get("decoder/embeddings/weight")?;
        let (n_vocab, n_state) = embeddings.dims2().map_err(ce)?;
        let conv1 = w.get("encoder/conv1/weight")?;
        let n_mels = conv1.dim(1).map_err(ce)?;
        let encoder_positions = w.get("encoder/position_encodings/encodings")?;
        let decoder_positions = w.get("decoder/position_encodings/encodings")?;
        let dims = Dims {
            n_mels,
            n_state,
            n_vocab,
            encoder_layers: w.count_layers("encoder"),
            decoder_layers: w.count_layers("decoder"),
            encoder_heads: w.heads("encoder")?,
            decoder_heads: w.heads("decoder")?,
            audio_ctx: encoder_positions.dim(0).map_err(ce)?,
            text_ctx: decoder_positions.dim(0).map_err(ce)?,
        };
        let encoder = (0..dims.encoder_layers)
            .map(|i| {
                let p = format!("encoder/layer_{i}");
                Ok(EncoderLayer {
                    attn: SelfAttention::load(&w, &p)?,
                    mlp: Mlp::load(&w, &p)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let decoder = (0..dims.decoder_layers)
            .map(|i| {
                let p = format!("decoder/layer_{i}");
                let cross = CrossAttention {
                    norm: w.norm(&format!("{p}/attention/layer_norm"))?,
                    q: w.linear(&format!("{p}/attention/linear_0"))?,
                    kv: w.linear(&format!("{p}/attention/linear_1"))?,
                    out: w.linear(&format!("{p}/attention/linear_2"))?,
                };
                Ok(DecoderLayer {
                    attn: SelfAttention::load(&w, &p)?,
                    cross,
                    mlp: Mlp::load(&w, &p)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Whisper {
            dims,
            conv1: w.conv("encoder/conv1", 1)?,
            conv2: w.conv("encoder/conv2", 2)?,
            encoder_positions,
            encoder,
            encoder_norm: w.norm("encoder/layer_norm")?,
            embeddings,
            decoder_positions,
            decoder,
            decoder_norm: w.norm("decoder/layer_norm")?,
            device: device.clone(),
        })
    }

    /// Encodes windows of log-mel frames, `(batch, n_mels, 3000)` → `(batch, 1500, n_state)`.
    pub fn encode(&self, mel: &Tensor) -> Result<Tensor> {
        self.encode_inner(mel).map_err(ce)
    }

    fn encode_inner(&self, mel: &Tensor) -> candle_core::Result<Tensor> {
        let x = self.conv1.forward(mel)?.gelu_erf()?;
        let x = self.conv2.forward(&x)?.gelu_erf()?.transpose(1, 2)?;
        let t = x.dim(1)?;
        let mut x = x.broadcast_add(&self.encoder_positions.narrow(0, 0, t)?)?;
        let heads = self.dims.encoder_heads;
        for layer in &self.encoder {
            let (q, k, v) = layer.attn.project(&x, heads)?;
            x = (&x + layer.attn.out.forward(&attend(&q, &k, &v, None)?)?)?;
            x = layer.mlp.forward(&x)?;
        }
        self.encoder_norm.forward(&x)
    }

    /// A fresh decoder memory for one encoded window `(1, 1500, n_state)`.
    pub fn start(&self, audio: &Tensor) -> Result<DecoderState> {
        let heads = self.dims.decoder_heads;
        let cross = self
            .decoder
            .iter()
            .map(|l| {
                let kv = l.cross.kv.forward(audio)?;
                let n = kv.dim(D::Minus1)? / 2;
                Ok((
                    split_heads(&kv.narrow(D::Minus1, 0, n)?, heads)?,
                    split_heads(&kv.narrow(D::Minus1, n, n)?, heads)?,
                ))
            })
            .collect::<candle_core::Result<Vec<_>>>()
            .map_err(ce)?;
        Ok(DecoderState {
            past: vec![None; cross.len()],
            cross,
            len: 0,
        })
    }

    /// Feeds `tokens` (the prompt, or one new token) and returns the log-probabilities of the
    /// next token over the vocabulary.
    pub fn step(&self, state: &mut DecoderState, tokens: &[u32]) -> Result<Vec<f32>> {
        self.step_inner(state, tokens).map_err(ce)
    }

    fn step_inner(
        &self,
        state: &mut DecoderState,
        tokens: &[u32],
    ) -> candle_core::Result<Vec<f32>> {
        let n = tokens.len();
        if n == 0 || state.len + n > self.dims.text_ctx {
            candle_core::bail!(
                "{} tokens after {} do not fit the decoder's {} positions",
                n,
                state.len,
                self.dims.text_ctx
            );
        }
        let ids = Tensor::new(tokens, &self.device)?;
        let x = self.embeddings.index_select(&ids, 0)?;
        let x = (x + self.decoder_positions.narrow(0, state.len, n)?)?;
        let mut x = x.unsqueeze(0)?;
        // Causal within the new tokens: position i sees the past and new tokens up to i.
        let mask = if n > 1 {
            let past = state.len;
            let m: Vec<f32> = (0..n)
                .flat_map(|i| {
                    (0..past + n).map(move |j| if j > past + i { f32::NEG_INFINITY } else { 0.0 })
                })
                .collect();
            Some(Tensor::from_vec(m, (n, past + n), &self.device)?)
        } else {
            None
        };
        let heads = self.dims.decoder_heads;
        for (i, layer) in self.decoder.iter().enumerate() {
            let (q, k, v) = layer.attn.project(&x, heads)?;
            let (k, v) = match &state.past[i] {
                Some((pk, pv)) => (Tensor::cat(&[pk, &k], 2)?, Tensor::cat(&[pv, &v], 2)?),
                None => (k, v),
            };
            x = (&x
                + layer
                    .attn
                    .out
                    .forward(&attend(&q, &k, &v, mask.as_ref())?)?)?;
            state.past[i] = Some((k, v));
            let q = split_heads(
                &layer.cross.q.forward(&layer.cross.norm.forward(&x)?)?,
                heads,
            )?;
            let (ck, cv) = &state.cross[i];
            x = (&x + layer.cross.out.forward(&attend(&q, ck, cv, None)?)?)?;
            x = layer.mlp.forward(&x)?;
        }
        state.len += n;
        let last = self
            .decoder_norm
            .forward(&x.narrow(1, n - 1, 1)?)?
            .squeeze(0)?;
        let logits = last.matmul(&self.embeddings.t()?)?.squeeze(0)?;
        candle_nn::ops::log_softmax(&logits, D::Minus1)?
            .to_dtype(DType::F32)?
            .to_vec1::<f32>()
    }
}
