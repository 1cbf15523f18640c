//! Technical metadata read from a master by the probe operator.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TechnicalMetadata {
    /// Container format as FFmpeg names it (`mov,mp4,m4a,3gp,3g2,mj2`, `wav`, `png_pipe`, …).
    pub container: Option<String>,
    pub duration_seconds: Option<f64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub fps: Option<f64>,
    pub video_codec: Option<String>,
    pub audio_codec: Option<String>,
    /// Overall bit rate in bits per second.
    pub bitrate: Option<u64>,
    pub sample_rate: Option<u32>,
    pub channels: Option<u32>,
    pub exif: Option<ImageExif>,
}

/// The EXIF fields a newsroom searches and sorts photos by.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImageExif {
    pub camera_make: Option<String>,
    pub camera_model: Option<String>,
    /// `DateTimeOriginal`, in the camera's local time (EXIF carries no zone).
    #[schema(value_type = Option<String>)]
    pub taken_at: Option<NaiveDateTime>,
    pub gps_latitude: Option<f64>,
    pub gps_longitude: Option<f64>,
    /// EXIF orientation, 1 to 8.
    pub orientation: Option<u16>,
}
